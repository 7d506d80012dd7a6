// A small line editor for the interactive CLI: cursor movement, history,
// the usual Emacs keys (word moves with Alt-b/Alt-f and Ctrl-Left/Right),
// Tab completion, and a dimmed hint after the text. Lines longer than the
// terminal wrap onto the next rows (linenoise's multi-line mode, as
// redis-cli uses it), and wide characters take two columns. Works on a raw
// terminal through Deno.stdin / Deno.stdout.

const encoder = new TextEncoder();

/** Options of a {@linkcode LineEditor}. */
export interface LineEditorOptions {
  /** Earlier lines, oldest first; new lines are appended. */
  history?: string[];
  /** Most lines kept in history. */
  historySize?: number;
  /** Text shown dimmed after the line, e.g. a command's arguments. */
  hint?: (line: string) => string;
  /** Candidates for Tab: whole lines that replace the typed one. */
  complete?: (line: string) => string[];
  /** The terminal's width in columns (default: asked of the terminal). */
  columns?: () => number;
}

// deno-lint-ignore no-control-regex
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\u0000-\u001f\u007f]$/u;
const EMOJI = /^\p{Emoji_Presentation}$/u;

/** Columns a character takes on a terminal: 0 for combining marks, 2 for
 * East Asian wide and full-width characters and emoji, else 1. */
export function charWidth(ch: string): number {
  const c = ch.codePointAt(0)!;
  if (c < 0x300) return c < 32 || c === 0x7f ? 0 : 1;
  if (ZERO_WIDTH.test(ch)) return 0;
  if (
    (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0x303e) ||
    (c >= 0x3041 && c <= 0x33ff) || (c >= 0x3400 && c <= 0x4dbf) ||
    (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xa000 && c <= 0xa4cf) ||
    (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
    (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd)
  ) return 2;
  return EMOJI.test(ch) ? 2 : 1;
}

/** Where text leaves the cursor on a terminal `cols` wide, starting at
 * row 0 column 0: a wide character that does not fit goes to the next
 * row; `col === cols` is the pending wrap after the last column. */
export function layout(
  chars: readonly string[],
  cols: number,
  from = { row: 0, col: 0 },
): { row: number; col: number } {
  let { row, col } = from;
  for (const ch of chars) {
    const w = charWidth(ch);
    if (w === 0) continue;
    if (col + w > cols) {
      row++;
      col = 0;
    }
    col += w;
  }
  return { row, col };
}

const isSpace = (ch: string | undefined) => ch !== undefined && /\s/.test(ch);

/** Reads lines from a terminal with editing and history. */
export class LineEditor {
  readonly history: string[];
  #historySize: number;
  #hint: (line: string) => string;
  #complete: (line: string) => string[];
  #columns: () => number;
  #decoder = new TextDecoder();
  #pending = "";
  /** The cursor's row, counted from the prompt's row, after the last
   * render. */
  #cursorRow = 0;

  constructor(options: LineEditorOptions = {}) {
    this.history = options.history ?? [];
    this.#historySize = options.historySize ?? 1000;
    this.#hint = options.hint ?? (() => "");
    this.#complete = options.complete ?? (() => []);
    this.#columns = options.columns ?? (() => {
      try {
        return Deno.consoleSize().columns || 80;
      } catch {
        return 80;
      }
    });
  }

  #write(s: string): void {
    const bytes = encoder.encode(s);
    let off = 0;
    while (off < bytes.length) {
      off += Deno.stdout.writeSync(bytes.subarray(off));
    }
  }

  /** Redraws prompt, line and hint from the prompt's first row: clears to
   * the end of the screen (so no stale row of a longer line or hint
   * stays), then puts the cursor back. */
  #render(
    prompt: string,
    chars: readonly string[],
    cursor: number,
    withHint = true,
  ): void {
    const cols = Math.max(1, this.#columns());
    const line = chars.join("");
    const hint = withHint ? this.#hint(line) : "";
    let out = "\r" + (this.#cursorRow > 0 ? `\x1b[${this.#cursorRow}A` : "") +
      "\x1b[J" + prompt + line + (hint ? `\x1b[90m${hint}\x1b[0m` : "");
    const start = layout([...prompt], cols);
    let end = layout([...hint], cols, layout(chars, cols, start));
    if (end.col >= cols) {
      // The text fills its last row: start the next so the cursor can go
      // there (the terminal keeps it on the last column until then).
      out += "\r\n";
      end = { row: end.row + 1, col: 0 };
    }
    let at = layout(chars.slice(0, cursor), cols, start);
    if (at.col >= cols) at = { row: at.row + 1, col: 0 };
    else if (cursor < chars.length) {
      // A wide character that does not fit on this row starts the next.
      const w = charWidth(chars[cursor]);
      if (at.col + w > cols) at = { row: at.row + 1, col: 0 };
    }
    if (end.row > at.row) out += `\x1b[${end.row - at.row}A`;
    out += "\r" + (at.col > 0 ? `\x1b[${at.col}C` : "");
    this.#cursorRow = at.row;
    this.#write(out);
  }

  /** Reads one line; null on Ctrl-D (empty line), Ctrl-C or end of input. */
  async readLine(prompt: string): Promise<string | null> {
    Deno.stdin.setRaw(true);
    try {
      return await this.#read(prompt);
    } finally {
      Deno.stdin.setRaw(false);
    }
  }

  async #read(prompt: string): Promise<string | null> {
    let chars: string[] = [];
    let cursor = 0;
    let index = this.history.length; // position while browsing history
    let saved: string[] = [];
    /** Tab completion in progress: the candidates, which one shows (the
     * typed line when `shown === list.length`), the typed line. */
    let completing: { list: string[]; shown: number; typed: string[] } | null =
      null;
    const buf = new Uint8Array(1024);
    this.#cursorRow = 0;
    const browse = (step: number) => {
      if (index === this.history.length) saved = chars;
      const next = Math.max(0, Math.min(this.history.length, index + step));
      chars = next === this.history.length ? saved : [...this.history[next]];
      index = next;
      cursor = chars.length;
    };
    const wordLeft = () => {
      while (cursor > 0 && isSpace(chars[cursor - 1])) cursor--;
      while (cursor > 0 && !isSpace(chars[cursor - 1])) cursor--;
    };
    const wordRight = () => {
      while (cursor < chars.length && isSpace(chars[cursor])) cursor++;
      while (cursor < chars.length && !isSpace(chars[cursor])) cursor++;
    };
    this.#render(prompt, chars, cursor);
    while (true) {
      if (this.#pending === "") {
        const n = await Deno.stdin.read(buf);
        if (n === null) return null;
        this.#pending = this.#decoder.decode(buf.subarray(0, n), {
          stream: true,
        });
      }
      const input = [...this.#pending];
      this.#pending = "";
      for (let i = 0; i < input.length; i++) {
        const ch = input[i];
        const code = ch.codePointAt(0)!;
        if (completing !== null) {
          if (code === 9) {
            completing.shown = (completing.shown + 1) %
              (completing.list.length + 1);
            chars = completing.shown === completing.list.length
              ? completing.typed
              : [...completing.list[completing.shown]];
            cursor = chars.length;
            if (completing.shown === completing.list.length) {
              this.#write("\x07");
            }
            continue;
          }
          const typed = completing.typed;
          completing = null;
          if (code === 27 && i + 1 === input.length) {
            // A lone Escape: back to what was typed.
            chars = typed;
            cursor = chars.length;
            continue;
          }
          // Any other key keeps the candidate shown and does its work.
        }
        if (code === 13 || code === 10) {
          this.#render(prompt, chars, chars.length, false);
          this.#write("\r\n");
          this.#cursorRow = 0;
          this.#pending = input.slice(i + 1).join("").replace(/^\n/, "");
          const line = chars.join("");
          if (line.trim() !== "" && this.history.at(-1) !== line) {
            this.history.push(line);
            if (this.history.length > this.#historySize) this.history.shift();
          }
          return line;
        }
        if (code === 3) { // Ctrl-C
          this.#render(prompt, chars, chars.length, false);
          this.#write("\r\n");
          return null;
        }
        if (code === 9) { // Tab
          const list = this.#complete(chars.join(""));
          if (list.length === 0) {
            this.#write("\x07");
            continue;
          }
          completing = { list, shown: 0, typed: chars };
          chars = [...list[0]];
          cursor = chars.length;
        } else if (code === 4) { // Ctrl-D
          if (chars.length === 0) {
            this.#write("\r\n");
            return null;
          }
          chars = chars.toSpliced(cursor, 1);
        } else if (code === 127 || code === 8) { // Backspace
          if (cursor > 0) {
            chars = chars.toSpliced(cursor - 1, 1);
            cursor--;
          }
        } else if (code === 1) cursor = 0; // Ctrl-A
        else if (code === 5) cursor = chars.length; // Ctrl-E
        else if (code === 2) cursor = Math.max(0, cursor - 1); // Ctrl-B
        else if (code === 6) cursor = Math.min(chars.length, cursor + 1); // Ctrl-F
        else if (code === 21) { // Ctrl-U
          chars = chars.slice(cursor);
          cursor = 0;
        } else if (code === 11) chars = chars.slice(0, cursor); // Ctrl-K
        else if (code === 23) { // Ctrl-W
          const end = cursor;
          wordLeft();
          chars = chars.toSpliced(cursor, end - cursor);
        } else if (code === 12) { // Ctrl-L
          this.#write("\x1b[H\x1b[2J");
          this.#cursorRow = 0;
        } else if (code === 16 || code === 14) { // Ctrl-P, Ctrl-N
          browse(code === 16 ? -1 : 1);
        } else if (code === 27) { // escape sequences and Alt-keys
          const seq =
            // deno-lint-ignore no-control-regex
            /^\x1b(\[[0-9;]*[A-Za-z~]|O[A-Za-z]|[A-Za-z]|\x7f)/.exec(
              input.slice(i, i + 12).join(""),
            );
          if (seq === null) continue;
          i += [...seq[0]].length - 1;
          const key = seq[1];
          if (key === "[A" || key === "OA") browse(-1);
          else if (key === "[B" || key === "OB") browse(1);
          else if (/^\[1?;?[35]C$|^Oc$|^f$/.test(key)) wordRight();
          else if (/^\[1?;?[35]D$|^Od$|^b$/.test(key)) wordLeft();
          else if (key === "[C" || key === "OC") {
            cursor = Math.min(chars.length, cursor + 1);
          } else if (key === "[D" || key === "OD") {
            cursor = Math.max(0, cursor - 1);
          } else if (key === "[H" || key === "OH" || key === "[1~") cursor = 0;
          else if (key === "[F" || key === "OF" || key === "[4~") {
            cursor = chars.length;
          } else if (key === "[3~") chars = chars.toSpliced(cursor, 1);
          else if (key === "d") { // Alt-d: delete the next word
            const start = cursor;
            wordRight();
            chars = chars.toSpliced(start, cursor - start);
            cursor = start;
          } else if (key === "\x7f") { // Alt-Backspace
            const end = cursor;
            wordLeft();
            chars = chars.toSpliced(cursor, end - cursor);
          }
        } else if (code >= 32) {
          chars = chars.toSpliced(cursor, 0, ch);
          cursor++;
        }
      }
      this.#render(prompt, chars, cursor);
    }
  }
}
