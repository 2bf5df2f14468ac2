/**
 * How both watch views (`status --watch`, `canary get --watch`) draw. On a terminal: one frame,
 * redrawn in place from the top, cut to the terminal's width and height so nothing scrolls or wraps
 * (a frame taller than the screen ends in a "… N more lines" line), states coloured unless NO_COLOR
 * is set. Anywhere else (a pipe, a log file): a new block, headed by the time, only when the facts
 * changed — never an escape sequence.
 */
import type { Output } from './output';

export interface ScreenOptions {
  readonly tty: boolean;
  /** Terminal size; undefined when unknown (then nothing is cut). */
  readonly columns?: number;
  readonly rows?: number;
  /** Colour states; default: on a terminal unless NO_COLOR is set (https://no-color.org). */
  readonly colour?: boolean;
}

/** Cursor home; each line then ends with "clear to end of line" and the frame with "clear below". */
const HOME = '\x1b[H';
const CLEAR_LINE = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';

const GREEN = '\x1b[32m';
const RED = '\x1b[31m';
const YELLOW = '\x1b[33m';
const RESET = '\x1b[0m';

/** Words that are states in both views, by colour. */
const STATE_COLOURS: readonly (readonly [RegExp, string])[] = [
  [/\b(True|Succeeded|Healthy|Progressing|Promoted)\b/g, GREEN],
  [/\b(False|Failed|Aborted|NOT RUNNING)\b/g, RED],
  [/\b(Unknown|Pending|Paused)\b/g, YELLOW],
];

export function colourStates(line: string): string {
  return STATE_COLOURS.reduce((text, [pattern, colour]) => text.replace(pattern, (m) => `${colour}${m}${RESET}`), line);
}

/** Cut a line to `width` characters (code points), marking the cut with "…". */
function fitWidth(line: string, width: number | undefined): string {
  const chars = [...line];
  if (width === undefined || width < 2 || chars.length <= width) return line;
  return `${chars.slice(0, width - 1).join('')}…`;
}

/** The frame as it fits the screen: at most `rows - 1` lines (the cursor needs the last row). */
export function fitFrame(text: string, columns: number | undefined, rows: number | undefined): string[] {
  const lines = text.split('\n');
  const room = rows === undefined || rows < 3 ? lines.length : rows - 1;
  const shown = lines.length <= room ? lines : [...lines.slice(0, room - 1), `… ${lines.length - (room - 1)} more lines (enlarge the terminal to see them)`];
  return shown.map((l) => fitWidth(l, columns));
}

export class WatchScreen {
  private lastFacts: string | undefined;
  private readonly colour: boolean;

  constructor(
    private readonly io: Output,
    private readonly options: ScreenOptions,
  ) {
    this.colour = options.colour ?? (options.tty && (process.env['NO_COLOR'] ?? '') === '');
  }

  static forStdout(io: Output): WatchScreen {
    const out = process.stdout;
    return new WatchScreen(io, { tty: out.isTTY, ...(out.isTTY ? { columns: out.columns, rows: out.rows } : {}) });
  }

  /**
   * Show a frame. `facts` is what counts as a change (the text itself may hold ages that move every
   * second); on a terminal the frame is redrawn anyway, so those ages stay current.
   */
  show(text: string, facts: string, now: Date): void {
    const changed = facts !== this.lastFacts;
    if (this.options.tty) {
      const lines = fitFrame(text, this.options.columns, this.options.rows).map((l) => `${this.colour ? colourStates(l) : l}${CLEAR_LINE}`);
      this.io.out(`${HOME}${lines.join('\n')}${CLEAR_BELOW}`);
    } else if (changed) {
      this.io.out(`${this.lastFacts === undefined ? '' : '\n'}--- ${now.toISOString()}\n${text}`);
    }
    this.lastFacts = facts;
  }
}
