/**
 * Dynamic endpoints for NGINX (ADR 0016): every HTTP location proxies to one upstream, `sg_dynamic`,
 * whose peer a Lua balancer picks from a shared dictionary keyed by the swarmgate upstream name in
 * `$sg_upstream`. The dictionary holds one line per upstream (ENDPOINT_LINE below); the proxy agent
 * replaces it through a loopback-only HTTP endpoint, so task churn changes no config file and
 * reloads nothing: a whole set (PUT), or only the changed upstreams on top of the set the agent last
 * pushed (PATCH, ADR 0038), which the dictionary names by a version so that a delta never lands on
 * another set. A shared dictionary lives in shared memory and survives a reload (HUP); on a
 * start, init_by_lua seeds it from the endpoints file the agent keeps next to the config (no
 * version: the agent's next push is whole).
 *
 * Per request the balancer does one dictionary lookup (a hash) and, only when the line changed,
 * parses it once per worker: no search grows with the number of upstreams. It keeps what the
 * static upstreams did: round robin (or a hash of the affinity variable: cookie or client address),
 * passive health (max_fails within fail_timeout takes a peer out for fail_timeout, per worker like
 * NGINX without a zone), retries on the other peers (set_more_tries), and the loopback 503 server
 * as the last resort when no peer is left. Upstream keep-alive: `keepalive` after the balancer.
 *
 * This file is constant code plus generated numbers: no user string reaches the Lua source.
 */

/**
 * One upstream in the dictionary, as the agent sends it and the endpoints file holds it:
 * `NAME MAX_FAILS FAIL_TIMEOUT_SECONDS AFFINITY_VARIABLE|- IP:PORT...` (space-separated; IPv6 in brackets).
 */
export const ENDPOINT_LINE = /^([A-Za-z0-9_]+) (\d+) (\d+(?:\.\d+)?) ([A-Za-z0-9_]+|-)((?: (?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):\d{1,5})*)$/;

/**
 * One rule's split over several upstreams (ADR 0049), in the same set as the upstreams:
 * `=NAME KEY_VARIABLE UPSTREAM:WEIGHT...`. The "=" keeps split names apart from upstream names
 * ([A-Za-z0-9_]+) by construction; sg.split reads the line at request time.
 */
export const SPLIT_LINE = /^=[A-Za-z0-9_]+ [A-Za-z0-9_]+(?: [A-Za-z0-9_]+:\d{1,9})+$/;

/**
 * `drainFlagPath` (hitless delivery): the agent's drain flag, tested by sg.draining() (ADR 0036).
 * Both paths are plain absolute paths (dynamic-endpoints.ts checks them): they reach Lua source.
 */
export function balancerLua(unavailablePort: number, endpointsPath: string, drainFlagPath?: string): string {
  return `
        sg = {}
        local balancer = require "ngx.balancer"
        local dict = ngx.shared.sg_endpoints
        local parsed, rr, fails = {}, {}, {}
        local UNAVAILABLE = ${unavailablePort}

        -- Returns name, entry or nil, error.
        local function parse_line(line)
          local name, mf, ft, aff, rest = line:match("^([%w_]+) (%d+) ([%d.]+) ([%w_%-]+)(.*)$")
          if name == nil then return nil, "bad line: " .. line:sub(1, 200) end
          local peers = {}
          for item in rest:gmatch("%S+") do
            local host, port = item:match("^%[?([%x%.:]+)%]?:(%d+)$")
            if host == nil then return nil, "bad address: " .. item:sub(1, 80) end
            peers[#peers + 1] = { host, tonumber(port), item }
          end
          return name, { line = line, peers = peers, max_fails = tonumber(mf), fail_timeout = tonumber(ft), affinity = aff ~= "-" and aff or nil }
        end
        sg.parse_line = parse_line

        -- A rule's split (ADR 0049): "=NAME KEY_VARIABLE UPSTREAM:WEIGHT...".
        local function parse_split(line)
          local name, key, rest = line:match("^(=[%w_]+) ([%w_]+)(.*)$")
          if name == nil then return nil, "bad split: " .. line:sub(1, 200) end
          local members = {}
          for item in rest:gmatch("%S+") do
            local up, w = item:match("^([%w_]+):(%d+)$")
            if up == nil then return nil, "bad split member: " .. item:sub(1, 80) end
            members[#members + 1] = { up, tonumber(w) }
          end
          if #members == 0 then return nil, "a split without members: " .. line:sub(1, 200) end
          return name, { line = line, key = key, members = members }
        end
        -- A tabled host's locations (ADR 0050): "@HOST" then "KIND PATH ROUTE TARGET" per location,
        -- KIND "=" (exact) or "^" (prefix), TARGET an upstream or a split ("=NAME").
        local function parse_host(line)
          local name, rest = line:match("^(@[%w%.%-%*]+)(.*)$")
          if name == nil then return nil, "bad host: " .. line:sub(1, 200) end
          local t = {}
          for item in rest:gmatch("%S+") do t[#t + 1] = item end
          if #t == 0 or #t % 4 ~= 0 then return nil, "bad host locations: " .. line:sub(1, 200) end
          local exact, prefixes = {}, {}
          for i = 1, #t, 4 do
            local kind, path, route, target = t[i], t[i + 1], t[i + 2], t[i + 3]
            if path:byte(1) ~= 47 or not target:match("^=?[%w_]+$") then return nil, "bad host location: " .. line:sub(1, 200) end
            local loc = { path, route, target }
            if kind == "=" then exact[path] = loc
            elseif kind == "^" then prefixes[#prefixes + 1] = loc
            else return nil, "bad location kind: " .. kind:sub(1, 10) end
          end
          -- NGINX's choice among prefix locations: the longest that matches.
          table.sort(prefixes, function(a, b) return #a[1] > #b[1] end)
          return name, { line = line, exact = exact, prefixes = prefixes }
        end
        local function parse_any(line)
          local b = line:byte(1)
          if b == 61 then return parse_split(line) end
          if b == 64 then return parse_host(line) end
          return parse_line(line)
        end

        -- Which set the dictionary holds: the version the agent gave with its last successful push
        -- (absent after a failed one and after a seed from the file, so a delta is refused then and
        -- the agent pushes the whole set). Not an upstream name: those are [A-Za-z0-9_]+.
        local VERSION = "#version"

        -- Replace the whole set: every name in text is set, every other name deleted.
        function sg.replace(text, version)
          local keep = {}
          for line in text:gmatch("[^\\n]+") do
            local name, e = parse_any(line)
            if name == nil then return nil, e end
            keep[name] = line
          end
          dict:delete(VERSION)
          for name, line in pairs(keep) do
            local ok, err = dict:safe_set(name, line)
            if not ok then return nil, "shared dict: " .. tostring(err) end
          end
          for _, name in ipairs(dict:get_keys(0)) do
            if keep[name] == nil and name ~= VERSION then dict:delete(name) end
          end
          if version ~= nil then dict:set(VERSION, version) end
          return true
        end

        -- Change only what the agent says changed, on top of the set named base: a line sets its
        -- upstream, "-NAME" deletes one. Returns nil, err, status (409: the dictionary holds another set).
        function sg.apply(text, base, version)
          if dict:get(VERSION) ~= base then return nil, "the balancer holds another set than " .. base, 409 end
          local sets, gone = {}, {}
          for line in text:gmatch("[^\\n]+") do
            local name = line:match("^%-([=@]?[%w_%.%-%*]+)$")
            if name ~= nil then
              gone[#gone + 1] = name
            else
              local n, e = parse_any(line)
              if n == nil then return nil, e, 400 end
              sets[#sets + 1] = { n, line }
            end
          end
          dict:delete(VERSION)
          for _, s in ipairs(sets) do
            local ok, err = dict:safe_set(s[1], s[2])
            if not ok then return nil, "shared dict: " .. tostring(err), 500 end
          end
          for _, name in ipairs(gone) do dict:delete(name) end
          dict:set(VERSION, version)
          return true
        end

        -- A line of the dictionary, parsed by parse and kept per worker in cache while the line is the same.
        local function cached_parse(cache, parse)
          return function(name)
            local line = dict:get(name)
            if line == nil then return nil end
            local e = cache[name]
            if e ~= nil and e.line == line then return e end
            local _, fresh = parse(line)
            cache[name] = fresh
            return fresh
          end
        end
        local entry = cached_parse(parsed, parse_line)

        -- set_by_lua's choice for a rule split over several upstreams (ADR 0049): one upstream per
        -- request, weighted among the members with a weight and a task, by a hash of the key variable
        -- (the request id: random; the client address or a cookie: the same client, the same member
        -- while the weights hold), with split_clients' shares. "-" names no upstream: the 503 backup answers.
        local splits = {}
        function sg.split(name)
          local line = dict:get(name)
          if line == nil then return "-" end
          local s = splits[name]
          if s == nil or s.line ~= line then
            local _, fresh = parse_split(line)
            if fresh == nil then return "-" end
            splits[name] = fresh
            s = fresh
          end
          local live, n, total = s.live or {}, 0, 0
          s.live = live
          for _, m in ipairs(s.members) do
            if m[2] > 0 then
              local e = entry(m[1])
              if e ~= nil and #e.peers > 0 then n = n + 1 ; live[n] = m ; total = total + m[2] end
            end
          end
          if n == 0 then return "-" end
          if n == 1 then return live[1][1] end
          -- splitShares (src/render/split.ts): floored basis points, at least 1 each, an excess taken
          -- from the largest of the others, the last member the rest.
          local sh, sum = s.shares or {}, 0
          s.shares = sh
          for i = 1, n - 1 do sh[i] = math.max(1, math.floor(live[i][2] * 10000 / total)) ; sum = sum + sh[i] end
          while sum + 1 > 10000 do
            local largest = 1
            for i = 2, n - 1 do if sh[i] > sh[largest] then largest = i end end
            sh[largest] = sh[largest] - 1 ; sum = sum - 1
          end
          local h = ngx.crc32_long("split:" .. (ngx.var[s.key] or "")) % 10000
          local acc = 0
          for i = 1, n - 1 do
            acc = acc + sh[i]
            if h < acc then return live[i][1] end
          end
          return live[n][1]
        end

        -- The table server's location (ADR 0050): the request's host line, found as NGINX found the
        -- server (the exact name, else the longest wildcard "*.<suffix>"), then its location as NGINX
        -- picks one (an exact path, else the longest prefix). A host without a line answers as the
        -- default server does (503); a path no location matches, 404.
        local host_entry = cached_parse({}, parse_host)
        function sg.route()
          local host = ngx.var.host
          local h = host_entry("@" .. host)
          local rest = host
          while h == nil do
            local dot = rest:find(".", 1, true)
            if dot == nil then break end
            rest = rest:sub(dot + 1)
            h = host_entry("@*." .. rest)
          end
          if h == nil then return ngx.exit(503) end
          local uri = ngx.var.uri
          local loc = h.exact[uri]
          if loc == nil then
            for _, p in ipairs(h.prefixes) do
              if uri:sub(1, #p[1]) == p[1] then loc = p ; break end
            end
          end
          if loc == nil then return ngx.exit(404) end
          ngx.var.sg_route = loc[2]
          local target = loc[3]
          if target:byte(1) == 61 then target = sg.split(target) end
          ngx.var.sg_upstream = target
        end

        local function down(peer, now)
          local f = fails[peer]
          return f ~= nil and f.until_ ~= nil and f.until_ > now
        end

        local function failed(peer, e, now)
          if e.max_fails == 0 then return end
          local f = fails[peer]
          if f == nil or now - f.since > e.fail_timeout then f = { n = 0, since = now } ; fails[peer] = f end
          f.n = f.n + 1
          if f.n >= e.max_fails then f.until_ = now + e.fail_timeout ; f.n = 0 ; f.since = now end
        end

        function sg.balance()
          local ctx = ngx.ctx
          local name = ngx.var.sg_upstream
          local e = name and entry(name)
          local now = ngx.now()
          if ctx.sg_tried == nil then
            ctx.sg_tried = {}
            if e ~= nil and #e.peers > 0 then balancer.set_more_tries(#e.peers) end
          elseif ctx.sg_peer ~= nil and e ~= nil then
            failed(ctx.sg_peer, e, now)
          end
          local pick
          if e ~= nil then
            local n = #e.peers
            if n > 0 then
              local start
              local key = e.affinity and ngx.var[e.affinity]
              if key ~= nil and key ~= "" then
                start = ngx.crc32_long(key) % n
              else
                start = rr[name] or 0
                rr[name] = (start + 1) % n
              end
              for i = 0, n - 1 do
                local p = e.peers[(start + i) % n + 1]
                if not ctx.sg_tried[p[3]] and not down(p[3], now) then pick = p ; break end
              end
            end
          end
          if pick == nil then
            ctx.sg_peer = nil
            local ok, err = balancer.set_current_peer("127.0.0.1", UNAVAILABLE)
            if not ok then ngx.log(ngx.ERR, "swarmgate balancer: ", err) end
            return
          end
          ctx.sg_tried[pick[3]] = true
          ctx.sg_peer = pick[3]
          local ok, err = balancer.set_current_peer(pick[1], pick[2])
          if not ok then ngx.log(ngx.ERR, "swarmgate balancer: ", err) end
        end

        -- The agent's endpoint: PUT the whole set (one line per upstream), PATCH a delta on top of
        -- the set named by X-Swarmgate-Base; both name the resulting set by X-Swarmgate-Version and
        -- echo it (an agent uses deltas only with a balancer that echoes). GET the set back.
        local function header_version(name)
          local v = ngx.req.get_headers()[name]
          if type(v) ~= "string" then return nil end
          return v:match("^[%w]+$") and #v <= 64 and v or false
        end

        function sg.endpoints()
          local method = ngx.req.get_method()
          if method == "GET" then
            local out = {}
            for _, name in ipairs(dict:get_keys(0)) do
              if name ~= VERSION then out[#out + 1] = dict:get(name) end
            end
            table.sort(out)
            local v = dict:get(VERSION)
            if v ~= nil then ngx.header["X-Swarmgate-Version"] = v end
            ngx.say(table.concat(out, "\\n"))
            return
          end
          local version = header_version("x-swarmgate-version")
          if version == false then ngx.status = 400 ; ngx.say("bad X-Swarmgate-Version") ; return end
          ngx.req.read_body()
          local body = ngx.req.get_body_data()
          if body == nil then
            local file = ngx.req.get_body_file()
            if file ~= nil then local fh = io.open(file, "r") ; if fh then body = fh:read("*a") ; fh:close() end end
          end
          local ok, err, status
          if method == "PATCH" then
            local base = header_version("x-swarmgate-base")
            if not base or version == nil then ngx.status = 400 ; ngx.say("a delta needs X-Swarmgate-Base and X-Swarmgate-Version") ; return end
            ok, err, status = sg.apply(body or "", base, version)
          elseif method == "PUT" then
            ok, err = sg.replace(body or "", version)
            status = 400
          else
            ngx.status = 405 ; return
          end
          if not ok then ngx.status = status ; ngx.say(err) ; return end
          if version ~= nil then ngx.header["X-Swarmgate-Version"] = version end
          ngx.status = 204
        end

${drainFlagPath !== undefined ? drainLua(drainFlagPath) : ''}${BAD_GATEWAY_LUA}        -- A fresh start (not a reload, whose shared memory keeps the set): seed from the agent's file.
        if #dict:get_keys(1) == 0 then
          local fh = io.open("${endpointsPath}", "r")
          if fh ~= nil then
            local ok, err = sg.replace(fh:read("*a"))
            fh:close()
            if not ok then ngx.log(ngx.ERR, "swarmgate endpoints file: ", err) end
          end
        end
`;
}

/**
 * The drain flag as a variable (ADR 0036): `set_by_lua_block $sg_draining { return sg.draining() }`
 * is a directive, where `if (-f flag)` is one more configuration context per server (and one more
 * TLS context with this module). access(F_OK) is the test `-f` makes (a stat: the flag exists),
 * with no read permission needed on the agent's file, and no garbage per request as io.open's
 * error string would be. Both worker generations of a reload test the same file.
 */
function drainLua(flagPath: string): string {
  return `        local ffi = require "ffi"
        pcall(ffi.cdef, "int access(const char *pathname, int mode);")
        local DRAIN_FLAG = "${flagPath}"
        function sg.draining()
          if ffi.C.access(DRAIN_FLAG, 0) == 0 then return "1" end
          return ""
        end

`;
}

/**
 * Every server's `@sg_502` (ADR 0036): what `if ($sg_backup_gone) { return 503 "…"; } return 502;`
 * does, as one content handler (one configuration context instead of two). NGINX's own 502 after the
 * loopback 503 backup was tried ($upstream_addr ends with it: its listener is gone, this NGINX is
 * shutting down) is the backend being unavailable; any other 502 stays NGINX's 502 (ngx.exit, like
 * `return 502`, ends in NGINX's own error page). The 503 is what `return 503 "text"` sends: the body
 * discarded, Content-Length set, the Content-Type NGINX would pick (lua_use_default_type).
 */
const BAD_GATEWAY_LUA = `        local NO_TASK = "no task of this backend is reachable\\n"
        local BACKUP = "127.0.0.1:" .. UNAVAILABLE
        function sg.bad_gateway()
          local addr = ngx.var.upstream_addr
          if addr == nil or addr:sub(-#BACKUP) ~= BACKUP then return ngx.exit(502) end
          ngx.req.discard_body()
          ngx.status = 503
          ngx.header["Content-Length"] = #NO_TASK
          ngx.print(NO_TASK)
          return ngx.exit(ngx.HTTP_OK)
        end

`;
