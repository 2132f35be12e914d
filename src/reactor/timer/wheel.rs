//! A hierarchical timing wheel: O(1) insert, O(1) removal, amortised O(1) expiry.
//!
//! Time is counted in ticks of one millisecond since the reactor started.
//! The wheel has [`LEVELS`] levels of [`SLOTS`] slots; a slot of level `L`
//! covers `64^L` ticks, so level 0 holds the timers of the next 64 ms, level 1
//! those of the next ~4 s, and so on up to ~139 years for level 6.
//!
//! # Invariants
//!
//! - `elapsed` is the tick up to which every timer has been expired.
//! - A timer with deadline `d > elapsed` sits at the level of the highest
//!   6-bit digit in which `d` and `elapsed` differ, in the slot named by
//!   `d`'s digit at that level. Hence every occupied slot *starts* strictly
//!   after `elapsed`, and the first occupied slot of the lowest non-empty
//!   level is the next point in time at which something must happen.
//! - When `elapsed` reaches the start of a slot of level `L > 0`, that slot's
//!   timers move down to lower levels (or expire); level 0 slots expire.
//!
//! Each slot is a doubly-linked FIFO list threaded through one slab of
//! nodes, so timers due in the same tick expire in the order they were
//! inserted, and removing a cancelled timer only relinks two neighbours.
//! A removed timer's node goes on a free list and is reused by the next
//! insertion; the value it held is dropped at once.

/// Bits of a tick consumed by one level.
const SLOT_BITS: u32 = 6;
/// Slots per level.
const SLOTS: usize = 1 << SLOT_BITS;
/// Number of levels.
const LEVELS: usize = 7;
/// The largest tick the wheel can represent; later deadlines are clamped to
/// it (that is ~139 years of reactor uptime).
pub(crate) const MAX_TICK: u64 = (1 << (SLOT_BITS as usize * LEVELS)) - 1;

/// Marks "no node" in links and heads.
const NIL: u32 = u32::MAX;

/// The position of a timer inside the wheel, returned by [`Wheel::insert`]
/// and used to remove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key(u32);

impl Key {
    /// A key that names no timer.
    pub(crate) const NONE: Key = Key(NIL);

    /// The raw form, for storage in an atomic.
    pub(crate) fn into_raw(self) -> u32 {
        self.0
    }

    /// Rebuilds a key stored with [`Key::into_raw`].
    pub(crate) fn from_raw(raw: u32) -> Key {
        Key(raw)
    }
}

#[derive(Debug)]
struct Node<T> {
    /// `Some` while the node is linked into a slot; `None` on the free list.
    value: Option<T>,
    deadline: u64,
    prev: u32,
    /// The next node of the slot list, or of the free list.
    next: u32,
    /// Level and slot the node is linked into (for O(1) unlinking).
    level: u8,
    slot: u8,
}

#[derive(Debug, Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

const EMPTY: List = List {
    head: NIL,
    tail: NIL,
};

#[derive(Debug)]
struct Level {
    /// Bit `s` is set when slot `s` holds at least one timer.
    occupied: u64,
    slots: [List; SLOTS],
}

/// The timing wheel. Owned by the reactor thread; not shared.
#[derive(Debug)]
pub(crate) struct Wheel<T> {
    elapsed: u64,
    levels: Vec<Level>,
    nodes: Vec<Node<T>>,
    free: u32,
    len: usize,
}

impl<T> Wheel<T> {
    /// An empty wheel whose time starts at tick 0.
    pub(crate) fn new() -> Self {
        let levels = (0..LEVELS)
            .map(|_| Level {
                occupied: 0,
                slots: [EMPTY; SLOTS],
            })
            .collect();
        Wheel {
            elapsed: 0,
            levels,
            nodes: Vec::new(),
            free: NIL,
            len: 0,
        }
    }

    /// Number of timers held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The tick up to which the wheel has expired timers.
    #[cfg(test)]
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Inserts `value` to expire at tick `deadline`.
    ///
    /// Returns `Err(value)` when the deadline is not after the wheel's
    /// current time: the caller expires it at once.
    pub(crate) fn insert(&mut self, deadline: u64, value: T) -> Result<Key, T> {
        let deadline = deadline.min(MAX_TICK);
        if deadline <= self.elapsed {
            return Err(value);
        }
        let index = self.alloc(deadline, value);
        self.link(index);
        self.len += 1;
        Ok(Key(index))
    }

    /// Removes the timer named by `key`, returning its value.
    ///
    /// Returns `None` when `key` names no live timer (already expired or
    /// removed, or `Key::NONE`).
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        let index = key.0;
        let node = self.nodes.get(index as usize)?;
        node.value.as_ref()?;
        self.unlink(index);
        self.len -= 1;
        self.release(index)
    }

    /// Like [`Wheel::remove`], but only when the timer's value satisfies
    /// `is_it`, which guards against a stale key whose node was reused.
    pub(crate) fn remove_if(&mut self, key: Key, is_it: impl FnOnce(&T) -> bool) -> Option<T> {
        let node = self.nodes.get(key.0 as usize)?;
        match &node.value {
            Some(value) if is_it(value) => self.remove(key),
            _ => None,
        }
    }

    /// The tick of the next point in time at which the wheel has work:
    /// either a timer expires then, or a slot must move down a level.
    /// `None` when the wheel is empty.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        self.next_slot().map(|(_, _, start)| start)
    }

    /// Advances time to `now`, calling `expire` with every timer whose
    /// deadline is at or before `now`, in deadline order (FIFO among
    /// timers of the same tick).
    pub(crate) fn advance(&mut self, now: u64, mut expire: impl FnMut(T)) {
        let now = now.min(MAX_TICK);
        while let Some((level, slot, start)) = self.next_slot() {
            if start > now {
                break;
            }
            self.elapsed = start;
            let list = std::mem::replace(&mut self.levels[level].slots[slot], EMPTY);
            self.levels[level].occupied &= !(1 << slot);
            let mut index = list.head;
            while index != NIL {
                let next = self.nodes[index as usize].next;
                if self.nodes[index as usize].deadline <= self.elapsed {
                    self.len -= 1;
                    if let Some(value) = self.release(index) {
                        expire(value);
                    }
                } else {
                    self.link(index);
                }
                index = next;
            }
        }
        if now > self.elapsed {
            self.elapsed = now;
        }
    }

    /// Expires every timer regardless of its deadline (used at shutdown).
    pub(crate) fn drain(&mut self, mut expire: impl FnMut(T)) {
        self.advance(MAX_TICK, &mut expire);
    }

    /// Lowest non-empty level, its first occupied slot, and that slot's
    /// start tick.
    fn next_slot(&self) -> Option<(usize, usize, u64)> {
        for (level, entry) in self.levels.iter().enumerate() {
            if entry.occupied == 0 {
                continue;
            }
            let shift = SLOT_BITS * level as u32;
            let current = ((self.elapsed >> shift) as usize) & (SLOTS - 1);
            // Every occupied slot lies after the current one (see the
            // module invariants), so only bits above `current` count.
            let ahead = entry.occupied & !(u64::MAX >> (63 - current));
            debug_assert_eq!(
                ahead, entry.occupied,
                "occupied slot behind the wheel's time"
            );
            let slot = ahead.trailing_zeros() as usize;
            let block = shift + SLOT_BITS;
            let base = if block >= 64 {
                0
            } else {
                self.elapsed >> block << block
            };
            return Some((level, slot, base + ((slot as u64) << shift)));
        }
        None
    }

    /// Level at which a deadline sits, given the wheel's current time.
    fn level_for(&self, deadline: u64) -> usize {
        // The lowest digit never decides the level: a timer that differs
        // from `elapsed` only there belongs to level 0.
        let differing = (self.elapsed ^ deadline) | (SLOTS as u64 - 1);
        let highest_bit = 63 - differing.leading_zeros();
        (highest_bit / SLOT_BITS) as usize
    }

    fn alloc(&mut self, deadline: u64, value: T) -> u32 {
        let node = Node {
            value: Some(value),
            deadline,
            prev: NIL,
            next: NIL,
            level: 0,
            slot: 0,
        };
        if self.free != NIL {
            let index = self.free;
            self.free = self.nodes[index as usize].next;
            self.nodes[index as usize] = node;
            index
        } else {
            let index = u32::try_from(self.nodes.len())
                .ok()
                .filter(|&i| i != NIL)
                .expect("more than 4 billion pending timers");
            self.nodes.push(node);
            index
        }
    }

    fn release(&mut self, index: u32) -> Option<T> {
        let node = &mut self.nodes[index as usize];
        let value = node.value.take();
        node.next = self.free;
        node.prev = NIL;
        self.free = index;
        value
    }

    /// Appends a node to the tail of the slot its deadline belongs in.
    fn link(&mut self, index: u32) {
        let deadline = self.nodes[index as usize].deadline;
        let level = self.level_for(deadline);
        let slot = ((deadline >> (SLOT_BITS * level as u32)) as usize) & (SLOTS - 1);
        let list = &mut self.levels[level].slots[slot];
        let tail = list.tail;
        if tail == NIL {
            list.head = index;
        } else {
            self.nodes[tail as usize].next = index;
        }
        list.tail = index;
        self.levels[level].occupied |= 1 << slot;
        let node = &mut self.nodes[index as usize];
        node.prev = tail;
        node.next = NIL;
        node.level = level as u8;
        node.slot = slot as u8;
    }

    fn unlink(&mut self, index: u32) {
        let (prev, next, level, slot) = {
            let node = &self.nodes[index as usize];
            (
                node.prev,
                node.next,
                node.level as usize,
                node.slot as usize,
            )
        };
        let list = &mut self.levels[level].slots[slot];
        if prev == NIL {
            list.head = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        let list = &mut self.levels[level].slots[slot];
        if next == NIL {
            list.tail = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
        if self.levels[level].slots[slot].head == NIL {
            self.levels[level].occupied &= !(1 << slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expire_all_until(wheel: &mut Wheel<u64>, now: u64) -> Vec<u64> {
        let mut out = Vec::new();
        wheel.advance(now, |v| out.push(v));
        out
    }

    #[test]
    fn timers_expire_in_deadline_order_and_never_early() {
        let mut wheel = Wheel::new();
        let mut deadlines: Vec<u64> = (0..2000u64).map(|i| 1 + (i * 7919) % 300_000).collect();
        for &d in &deadlines {
            wheel.insert(d, d).unwrap();
        }
        let mut fired = Vec::new();
        let mut now = 0;
        while wheel.len() > 0 {
            now = wheel.next_expiration().unwrap();
            wheel.advance(now, |d| {
                assert!(d <= now, "timer for {d} expired early at {now}");
                fired.push(d);
            });
            // Nothing due at or before `now` is left behind.
            assert!(wheel.next_expiration().is_none_or(|n| n > now));
        }
        assert!(now >= 299_000);
        deadlines.sort_unstable();
        assert_eq!(fired, deadlines);
    }

    #[test]
    fn a_million_timers_fit_and_cancelled_ones_leave_no_trace() {
        let mut wheel = Wheel::new();
        let keys: Vec<Key> = (0..1_000_000u64)
            .map(|i| wheel.insert(1 + (i * 48_271) % 3_600_000, i).unwrap())
            .collect();
        assert_eq!(wheel.len(), 1_000_000);
        for key in keys.iter().step_by(2) {
            assert!(wheel.remove(*key).is_some());
        }
        assert_eq!(wheel.len(), 500_000);
        let mut expired = 0;
        wheel.advance(3_600_000, |i| {
            assert_eq!(i % 2, 1, "a removed timer expired");
            expired += 1;
        });
        assert_eq!(expired, 500_000);
        assert_eq!(wheel.len(), 0);
        // Nodes are recycled rather than grown.
        let nodes = wheel.nodes.len();
        for i in 0..1000 {
            wheel.insert(3_600_001 + i, i).unwrap();
        }
        assert_eq!(wheel.nodes.len(), nodes);
    }

    #[test]
    fn timers_of_the_same_tick_expire_in_insertion_order() {
        let mut wheel = Wheel::new();
        for i in 0..100 {
            wheel.insert(5000, i).unwrap();
        }
        assert_eq!(expire_all_until(&mut wheel, 4999), Vec::<u64>::new());
        assert_eq!(
            expire_all_until(&mut wheel, 5000),
            (0..100).collect::<Vec<_>>()
        );
    }

    #[test]
    fn removed_timer_never_expires_and_frees_its_node() {
        let mut wheel = Wheel::new();
        let a = wheel.insert(10, 1).unwrap();
        let b = wheel.insert(10, 2).unwrap();
        let c = wheel.insert(10_000, 3).unwrap();
        assert_eq!(wheel.remove(b), Some(2));
        assert_eq!(wheel.remove(b), None);
        assert_eq!(wheel.remove(c), Some(3));
        assert_eq!(wheel.len(), 1);
        // The freed node is reused.
        let d = wheel.insert(20, 4).unwrap();
        assert!(d == b || d == c);
        assert_eq!(expire_all_until(&mut wheel, 100_000), vec![1, 4]);
        assert_eq!(wheel.remove(a), None);
        assert_eq!(wheel.len(), 0);
    }

    #[test]
    fn remove_if_ignores_a_reused_node() {
        let mut wheel = Wheel::new();
        let a = wheel.insert(10, 1).unwrap();
        wheel.remove(a);
        let b = wheel.insert(10, 2).unwrap();
        assert_eq!(a, b);
        assert_eq!(wheel.remove_if(a, |v| *v == 1), None);
        assert_eq!(wheel.len(), 1);
    }

    #[test]
    fn past_deadlines_are_refused_for_immediate_expiry() {
        let mut wheel = Wheel::new();
        wheel.advance(50, |_: u64| ());
        assert_eq!(wheel.insert(50, 7), Err(7));
        assert_eq!(wheel.insert(3, 8), Err(8));
        assert!(wheel.insert(51, 9).is_ok());
    }

    #[test]
    fn far_future_deadlines_are_clamped_without_overflow() {
        let mut wheel = Wheel::new();
        wheel.insert(u64::MAX, 1).unwrap();
        wheel.insert(MAX_TICK - 1, 2).unwrap();
        assert_eq!(expire_all_until(&mut wheel, 1 << 40), Vec::<u64>::new());
        assert_eq!(expire_all_until(&mut wheel, u64::MAX), vec![2, 1]);
        assert_eq!(wheel.elapsed(), MAX_TICK);
    }

    #[test]
    fn insertions_while_time_advances_keep_order() {
        let mut wheel = Wheel::new();
        let mut fired = Vec::new();
        for step in 0..5000u64 {
            let now = step * 3;
            wheel
                .insert(now + 1 + (step * 31) % 4096, now + 1 + (step * 31) % 4096)
                .unwrap();
            wheel.advance(now, |d| {
                assert!(d <= now);
                fired.push(d);
            });
        }
        wheel.drain(|d| fired.push(d));
        let mut sorted = fired.clone();
        sorted.sort_unstable();
        assert_eq!(fired, sorted);
        assert_eq!(fired.len(), 5000);
    }
}
