// SORT and SORT_RO: sort the elements of a list, set or sorted set,
// numerically or as bytes, optionally by weights in other keys (BY), with
// other keys' values in the output (GET), and STORE into a list.

import { StoreError } from "../_errors.ts";
import { STORE_ERRORS } from "../store.ts";
import type { Store } from "../store.ts";
import { notify } from "./pubsub.ts";
import type { List } from "../data/list.ts";
import type { RedisSet } from "../data/set.ts";
import type { SortedSet } from "../data/zset.ts";
import type { Hash } from "../data/hash.ts";
import { List as ListValue } from "../data/list.ts";
import {
  CommandError,
  Errors,
  type Handler,
  intArg,
  upper,
} from "./_shared.ts";

/** Redis's strtod check for weights: the whole string a finite or
 * infinite number, not NaN. */
function parseWeight(s: string): number | null {
  const t = s.trim();
  if (t !== s || s === "") return s === "" ? 0 : null;
  const lower = s.toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(lower)) {
    return lower.startsWith("-") ? -Infinity : Infinity;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) return null;
  const n = Number(s);
  return Number.isNaN(n) ? null : n;
}

/** Compares byte strings as memcmp does (shorter first on a tie). */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Reads `pattern` with its first `*` replaced by `element` (Redis's
 * lookupKeyByPattern): a string key, or a hash field after `->`; `#` is
 * the element itself. Undefined when there is nothing there. */
function byPattern(
  store: Store,
  pattern: string,
  element: string,
): string | undefined {
  if (pattern === "#") return element;
  const star = pattern.indexOf("*");
  if (star === -1) return undefined;
  const arrow = pattern.indexOf("->", star + 1);
  const field = arrow !== -1 && arrow + 2 < pattern.length
    ? pattern.slice(arrow + 2)
    : undefined;
  const key = pattern.slice(0, star) + element +
    pattern.slice(star + 1, field === undefined ? pattern.length : arrow);
  const v = store.readValue(key);
  if (v === undefined) return undefined;
  if (field !== undefined) {
    return typeof v === "object" && v.type === "hash"
      ? (v as Hash).get(field)
      : undefined;
  }
  return typeof v === "string" ? v : undefined;
}

interface SortItem {
  element: string;
  score: number;
  by: string | undefined;
}

function sortCommand(readOnly: boolean): Handler {
  return (s, argv) => {
    const store = s.store;
    const key = argv[1];
    let desc = false;
    let alpha = false;
    let limitStart = 0;
    let limitCount = -1;
    let sortBy: string | undefined;
    let dontSort = false;
    let storeKey: string | undefined;
    const gets: string[] = [];
    for (let j = 2; j < argv.length; j++) {
      const opt = upper(argv[j]);
      const left = argv.length - j - 1;
      if (opt === "ASC") desc = false;
      else if (opt === "DESC") desc = true;
      else if (opt === "ALPHA") alpha = true;
      else if (opt === "LIMIT" && left >= 2) {
        limitStart = intArg(argv[j + 1]);
        limitCount = intArg(argv[j + 2]);
        j += 2;
      } else if (opt === "STORE" && left >= 1 && !readOnly) {
        storeKey = argv[++j];
      } else if (opt === "BY" && left >= 1) {
        sortBy = argv[++j];
        if (!sortBy.includes("*")) dontSort = true;
      } else if (opt === "GET" && left >= 1) {
        gets.push(argv[++j]);
      } else {
        throw new CommandError(Errors.syntax);
      }
    }
    // The options first (their errors come before WRONGTYPE), then the key.
    const value = store.readValue(key);
    if (
      value !== undefined &&
      (typeof value === "string" ||
        (value.type !== "list" && value.type !== "set" &&
          value.type !== "zset"))
    ) {
      throw new StoreError(STORE_ERRORS.wrongType);
    }
    // A set has no order of its own: sort it when the result is stored, so
    // the stored list (and the log) do not depend on hash order.
    if (dontSort && value?.type === "set" && storeKey !== undefined) {
      dontSort = false;
      alpha = true;
      sortBy = undefined;
    }
    const length = value === undefined ? 0 : value.size;
    let start = limitStart < 0 ? 0 : limitStart;
    let end = limitCount < 0 ? length - 1 : start + limitCount - 1;
    if (start >= length) {
      start = length - 1;
      end = length - 2;
    }
    if (end >= length) end = length - 1;

    let elements: string[];
    if (value === undefined) elements = [];
    else if (dontSort && value.type !== "set") {
      // No sorting: the container's own order, from `start` to `end`.
      const n = Math.max(0, end - start + 1);
      if (value.type === "zset") {
        const z = value as SortedSet;
        elements = n === 0 ? [] : z.slice(
          desc ? length - 1 - end : start,
          desc ? length - 1 - start : end,
          desc,
        ).map(([m]) => m);
      } else {
        const list = value as List;
        elements = n === 0
          ? []
          : desc
          ? list.range(length - 1 - end, n).reverse()
          : list.range(start, n);
      }
      start = 0;
      end = elements.length - 1;
    } else if (value.type === "list") elements = [...(value as List).values()];
    else if (value.type === "set") elements = (value as RedisSet).members();
    else elements = [...(value as SortedSet).entries()].map(([m]) => m);

    if (!dontSort) {
      const items: SortItem[] = elements.map((element) => {
        const item: SortItem = { element, score: 0, by: undefined };
        if (sortBy !== undefined) {
          const by = byPattern(store, sortBy, element);
          if (by === undefined) return item;
          if (alpha) item.by = by;
          else {
            const w = parseWeight(by);
            if (w === null) {
              throw new CommandError(
                "ERR One or more scores can't be converted into double",
              );
            }
            item.score = w;
          }
        } else if (!alpha) {
          const w = parseWeight(element);
          if (w === null) {
            throw new CommandError(
              "ERR One or more scores can't be converted into double",
            );
          }
          item.score = w;
        }
        return item;
      });
      const byPatternAlpha = alpha && sortBy !== undefined;
      items.sort((a, b) => {
        let cmp: number;
        if (!alpha) {
          cmp = a.score > b.score
            ? 1
            : a.score < b.score
            ? -1
            : compareBytes(a.element, b.element);
        } else if (byPatternAlpha) {
          cmp = a.by === undefined || b.by === undefined
            ? (a.by === b.by ? 0 : a.by === undefined ? -1 : 1)
            : compareBytes(a.by, b.by);
        } else cmp = compareBytes(a.element, b.element);
        return desc ? -cmp : cmp;
      });
      elements = items.map((i) => i.element);
    }

    const out: (string | undefined)[] = [];
    for (let j = start; j <= end; j++) {
      const element = elements[j];
      if (gets.length === 0) out.push(element);
      else for (const g of gets) out.push(byPattern(store, g, element));
    }
    if (storeKey === undefined) {
      s.out.array(out.length);
      for (const v of out) s.out.bulkOrNil(v);
      return;
    }
    if (out.length > 0) {
      store.set(storeKey, new ListValue(out.map((v) => v ?? "")));
      notify(s, "sortstore", storeKey, "l");
    } else if (store.delete(storeKey)) {
      notify(s, "del", storeKey, "g");
    }
    store.dirty += out.length;
    s.out.int(out.length);
  };
}

/** Handlers of SORT and SORT_RO, by command name. */
export const sortCommands: Record<string, Handler> = {
  sort: sortCommand(false),
  sort_ro: sortCommand(true),
};
