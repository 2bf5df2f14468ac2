// The gRPC backend of examples/grpc: sgtest.Echo (echo.proto) on port 50051 without TLS (h2c), in the
// swarmgate image's Node with its @grpc/grpc-js (NODE_PATH=/app/node_modules). Each reply names the
// task that answered (its hostname, <service>.<slot>), like the HTTP example backends do.
'use strict';
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { hostname } = require('node:os');

const def = protoLoader.loadSync(process.env.ECHO_PROTO || '/srv/echo.proto', { keepCase: true, defaults: true });
const { Echo } = grpc.loadPackageDefinition(def).sgtest;
const backend = hostname();
const meta = (call) => ({ authority: String(call.metadata.get(':authority')[0] || ''), forwarded_for: String(call.metadata.get('x-forwarded-for')[0] || '') });

const server = new grpc.Server();
server.addService(Echo.service, {
  Say: (call, cb) => cb(null, { text: call.request.text, backend, ...meta(call) }),
  Count: async (call) => {
    for (let i = 1; i <= call.request.count; i++) {
      if (call.request.pause_ms > 0) await new Promise((r) => setTimeout(r, call.request.pause_ms));
      call.write({ text: `${call.request.text} ${i}`, backend, ...meta(call) });
    }
    call.end();
  },
});
server.bindAsync('0.0.0.0:50051', grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) throw err;
  console.log(`${backend}: sgtest.Echo on :50051`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.tryShutdown(() => process.exit(0)));
