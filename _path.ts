// Joining and resolving file paths as node:path's POSIX functions do (the
// same results: tests/replacements_test.ts compares them), without loading
// node:path and with it the Node compatibility layer at start-up.
//
// POSIX only, as the server is (it stops on SIGTERM, which Windows lacks).

/** `path`'s segments with `.` and `..` applied ( `..` kept at the start of
 * a relative path, dropped at the root of an absolute one) and empty
 * segments removed, joined by `/`, with no leading or trailing slash. */
function normalizeSegments(path: string, absolute: boolean): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
      continue;
    }
    out.push(part);
  }
  return out.join("/");
}

/** node:path's posix `normalize`. */
function normalize(path: string): string {
  if (path === "") return ".";
  const absolute = path[0] === "/";
  const trailing = path[path.length - 1] === "/";
  const body = normalizeSegments(path, absolute);
  if (body === "") return absolute ? "/" : trailing ? "./" : ".";
  const withSlash = trailing ? body + "/" : body;
  return absolute ? "/" + withSlash : withSlash;
}

/** The paths joined by `/` and normalized (node:path's posix `join`). */
export function join(...paths: string[]): string {
  const parts = paths.filter((p) => p !== "");
  return parts.length === 0 ? "." : normalize(parts.join("/"));
}

/** An absolute, normalized path with no trailing slash: `paths` taken
 * from the right until one is absolute, then the current directory
 * (node:path's posix `resolve`). */
export function resolve(...paths: string[]): string {
  let path = "";
  let absolute = false;
  for (let i = paths.length - 1; i >= -1 && !absolute; i--) {
    const p = i >= 0 ? paths[i] : Deno.cwd();
    if (p === "") continue;
    path = path === "" ? p : `${p}/${path}`;
    absolute = p[0] === "/";
  }
  const body = normalizeSegments(path, absolute);
  if (absolute) return "/" + body;
  return body === "" ? "." : body;
}
