/**
 * Price levels holding FIFO queues of orders: the shared mechanics of book sides and stop queues.
 *
 * Each level is an intrusive doubly-linked list (the links live in the orders), so appending and
 * removing any order is O(1) without allocation; the levels sit in a `PriceLevels` sorted set (best
 * last) and in a Map by price for direct access.
 *
 * On a visible book side an emptied level is not taken out of the sorted set at once: orders keep
 * moving between the same few hundred prices, and leaving the level in place makes the next order
 * at that price O(1) instead of a sorted remove now and a sorted insert later. Only the best end is
 * kept clean (an empty best level is popped, so the best level is always live and O(1) to find);
 * empty levels elsewhere are skipped by readers and dropped in bulk by `compactLadder` once they
 * outnumber the live ones. Keeping emptied levels until the end of the command also makes a level
 * emptied and refilled in one command the same object, reported once in book_changed.
 *
 * Stop queues are small and not reported, so they drop emptied levels at once.
 */
import { createLevel, type Ladder, type Level, leaves, type Order } from './model.ts';
import { firstLevel, insertLevel, lastLevel, popLast, removeLevel, retainLevels } from './price-levels.ts';

/** Empty levels a book side may keep beyond its number of live levels before it compacts. */
const EMPTY_LEVELS_SLACK = 1024;

/** The best live level (the sorted set's last entry is never empty), or null. */
export function bestLevel(ladder: Ladder): Level | null {
  return lastLevel(ladder.levels);
}

/** The worst live level, or null. Skips empty levels: not for the hot path. */
export function worstLevel(ladder: Ladder): Level | null {
  let level = firstLevel(ladder.levels);
  if (level === null || level.count > 0) return level;
  for (const chunk of ladder.levels.chunks) {
    for (level of chunk) if (level.count > 0) return level;
  }
  return null;
}

/** Append an order at the back of the queue at `price`, creating or re-listing the level. */
export function enqueue(ladder: Ladder, price: number, o: Order): Level {
  let level = ladder.byPrice.get(price);
  if (level === undefined) {
    level = createLevel(ladder, price);
    ladder.byPrice.set(price, level);
    insertLevel(ladder.levels, level);
    level.listed = true;
  } else {
    if (level.count === 0) ladder.empty--;
    if (!level.listed) {
      insertLevel(ladder.levels, level);
      level.listed = true;
    }
  }
  const tail = level.tail;
  o.prev = tail;
  o.next = null;
  if (tail === null) level.head = o;
  else tail.next = o;
  level.tail = o;
  o.level = level;
  level.count++;
  level.qty += leaves(o);
  return level;
}

/** Take an order out of its queue. */
export function dequeue(o: Order): Level {
  const level = o.level!;
  const prev = o.prev;
  const next = o.next;
  if (prev === null) level.head = next;
  else prev.next = next;
  if (next === null) level.tail = prev;
  else next.prev = prev;
  o.prev = null;
  o.next = null;
  o.level = null;
  level.count--;
  level.qty -= leaves(o);
  if (level.count === 0) {
    const ladder = level.ladder;
    if (!ladder.visible) {
      removeLevel(ladder.levels, level);
      level.listed = false;
      ladder.byPrice.delete(level.price);
    } else {
      ladder.empty++;
      // Keep the best end live: pop this level and any empty ones it uncovers.
      if (lastLevel(ladder.levels) === level) {
        let best: Level | null = level;
        while (best !== null && best.count === 0) {
          popLast(ladder.levels);
          best.listed = false;
          best = lastLevel(ladder.levels);
        }
      }
    }
  }
  return level;
}

/**
 * Drop a visible side's empty levels once they outnumber the live ones (amortised O(1) per level
 * emptied). Only between commands: by then their book_changed events are out.
 */
export function compactLadder(ladder: Ladder, slack = EMPTY_LEVELS_SLACK): void {
  if (ladder.empty <= slack + ladder.byPrice.size - ladder.empty) return;
  retainLevels(ladder.levels, (level) => {
    if (level.count > 0) return true;
    level.listed = false;
    return false;
  });
  for (const level of ladder.byPrice.values()) {
    if (level.count === 0) ladder.byPrice.delete(level.price);
  }
  ladder.empty = 0;
}
