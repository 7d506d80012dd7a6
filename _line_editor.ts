// A small line editor for the interactive CLI: cursor movement, history,
// the usual Emacs keys, and a dimmed hint after the text. Works on a raw
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
}

/** Reads lines from a terminal with editing and history. */
export class LineEditor {
  readonly history: string[];
  #historySize: number;
  #hint: (line: string) => string;
  #decoder = new TextDecoder();
  #pending = "";

  constructor(options: LineEditorOptions = {}) {
    this.history = options.history ?? [];
    this.#historySize = options.historySize ?? 1000;
    this.#hint = options.hint ?? (() => "");
  }

  #write(s: string): void {
    Deno.stdout.writeSync(encoder.encode(s));
  }

  #render(prompt: string, line: string, cursor: number): void {
    const hint = this.#hint(line);
    this.#write(
      `\r${prompt}${line}${hint ? `\x1b[90m${hint}\x1b[0m` : ""}\x1b[0K\r` +
        (prompt.length + cursor > 0 ? `\x1b[${prompt.length + cursor}C` : ""),
    );
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
    let line = "";
    let cursor = 0;
    let index = this.history.length; // position while browsing history
    let saved = "";
    const buf = new Uint8Array(1024);
    this.#render(prompt, line, cursor);
    while (true) {
      if (this.#pending === "") {
        const n = await Deno.stdin.read(buf);
        if (n === null) return null;
        this.#pending = this.#decoder.decode(buf.subarray(0, n), {
          stream: true,
        });
      }
      const input = this.#pending;
      this.#pending = "";
      for (let i = 0; i < input.length; i++) {
        const ch = input[i];
        const code = ch.charCodeAt(0);
        if (code === 13 || code === 10) {
          this.#render(prompt, line, line.length);
          this.#write("\x1b[0K\r\n");
          this.#pending = input.slice(i + 1).replace(/^\n/, "");
          if (line.trim() !== "" && this.history.at(-1) !== line) {
            this.history.push(line);
            if (this.history.length > this.#historySize) this.history.shift();
          }
          return line;
        }
        if (code === 3) { // Ctrl-C
          this.#write("\r\n");
          return null;
        }
        if (code === 4) { // Ctrl-D
          if (line === "") {
            this.#write("\r\n");
            return null;
          }
          line = line.slice(0, cursor) + line.slice(cursor + 1);
        } else if (code === 127 || code === 8) { // Backspace
          if (cursor > 0) {
            line = line.slice(0, cursor - 1) + line.slice(cursor);
            cursor--;
          }
        } else if (code === 1) cursor = 0; // Ctrl-A
        else if (code === 5) cursor = line.length; // Ctrl-E
        else if (code === 2) cursor = Math.max(0, cursor - 1); // Ctrl-B
        else if (code === 6) cursor = Math.min(line.length, cursor + 1); // Ctrl-F
        else if (code === 21) { // Ctrl-U
          line = line.slice(cursor);
          cursor = 0;
        } else if (code === 11) line = line.slice(0, cursor); // Ctrl-K
        else if (code === 23) { // Ctrl-W
          const before = line.slice(0, cursor).replace(/\S+\s*$/, "");
          line = before + line.slice(cursor);
          cursor = before.length;
        } else if (code === 12) this.#write("\x1b[H\x1b[2J"); // Ctrl-L
        else if (code === 16 || code === 14) { // Ctrl-P, Ctrl-N
          [line, index, saved] = this.#browse(
            code === 16 ? -1 : 1,
            line,
            index,
            saved,
          );
          cursor = line.length;
        } else if (code === 27) { // escape sequences
          // deno-lint-ignore no-control-regex
          const seq = /^\x1b(\[[0-9;]*[A-Za-z~]|O[A-Za-z])/.exec(
            input.slice(i),
          );
          if (seq === null) continue;
          i += seq[0].length - 1;
          const key = seq[1];
          if (key === "[A" || key === "OA") {
            [line, index, saved] = this.#browse(-1, line, index, saved);
            cursor = line.length;
          } else if (key === "[B" || key === "OB") {
            [line, index, saved] = this.#browse(1, line, index, saved);
            cursor = line.length;
          } else if (key === "[C" || key === "OC") {
            cursor = Math.min(line.length, cursor + 1);
          } else if (key === "[D" || key === "OD") {
            cursor = Math.max(0, cursor - 1);
          } else if (key === "[H" || key === "OH" || key === "[1~") cursor = 0;
          else if (key === "[F" || key === "OF" || key === "[4~") {
            cursor = line.length;
          } else if (key === "[3~") {
            line = line.slice(0, cursor) + line.slice(cursor + 1);
          }
        } else if (code >= 32) {
          line = line.slice(0, cursor) + ch + line.slice(cursor);
          cursor++;
        }
      }
      this.#render(prompt, line, cursor);
    }
  }

  #browse(
    step: number,
    line: string,
    index: number,
    saved: string,
  ): [string, number, string] {
    if (index === this.history.length) saved = line;
    const next = Math.max(0, Math.min(this.history.length, index + step));
    const text = next === this.history.length ? saved : this.history[next];
    return [text, next, saved];
  }
}
