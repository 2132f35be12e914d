//! The live-task list: every task that has not completed, so that
//! `all_tasks()` can list them and loop shutdown can drop every remaining
//! future exactly once.
//!
//! An intrusive doubly linked list per shard (links live in the task
//! header), each shard behind its own mutex so that spawns on different
//! workers rarely contend. The list holds one reference to each task it
//! links. Closing the list (loop shutdown) refuses further inserts.

use std::ptr::NonNull;

use crossbeam_utils::CachePadded;

use super::TaskRef;
use super::raw::{Header, header};
use crate::loom::{LOOM, Mutex};
use crate::util::lock;

/// Links of one task in its shard. Only touched under the shard's lock.
#[derive(Default)]
pub(crate) struct Links {
    prev: Option<NonNull<Header>>,
    next: Option<NonNull<Header>>,
    linked: bool,
}

struct Shard {
    head: Option<NonNull<Header>>,
    len: usize,
    closed: bool,
}

// SAFETY: the raw pointers are task references, which may move between
// threads; they are only followed under the shard's lock.
unsafe impl Send for Shard {}

/// How many shards; a power of two, so a task's shard is a mask of its id.
const SHARDS: usize = if LOOM { 2 } else { 64 };

/// Each shard's lock sits on its own cache line: neighbouring shards are
/// taken by different workers at once, and sharing a line would make them
/// contend as if they were one lock.
pub(crate) struct TaskList {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
}

/// Reads or writes a task's links.
///
/// # Safety
/// The caller holds the lock of the shard the task belongs to, and the task
/// is alive.
unsafe fn links<R>(task: NonNull<Header>, f: impl FnOnce(&mut Links) -> R) -> R {
    // SAFETY: per the contract the shard lock serialises access to the links.
    unsafe { header(task) }
        .links
        .with_mut(|links| f(unsafe { &mut *links }))
}

impl TaskList {
    pub(crate) fn new() -> TaskList {
        const { assert!(SHARDS.is_power_of_two()) };
        TaskList {
            shards: (0..SHARDS)
                .map(|_| {
                    CachePadded::new(Mutex::new(Shard {
                        head: None,
                        len: 0,
                        closed: false,
                    }))
                })
                .collect(),
        }
    }

    fn shard(&self, id: u64) -> &Mutex<Shard> {
        &self.shards[(id as usize) & (SHARDS - 1)]
    }

    /// Links a task, taking over one reference. Returns false (and links
    /// nothing) when the list is closed: the caller keeps the reference.
    pub(crate) fn insert(&self, task: NonNull<Header>) -> bool {
        // SAFETY: the caller hands over a reference.
        let id = unsafe { header(task) }.id;
        let mut shard = lock(self.shard(id));
        if shard.closed {
            return false;
        }
        let old_head = shard.head;
        // SAFETY: we hold the shard lock; both tasks are alive (the list
        // holds a reference to every linked task).
        unsafe {
            links(task, |l| {
                l.prev = None;
                l.next = old_head;
                l.linked = true;
            });
            if let Some(old) = old_head {
                links(old, |l| l.prev = Some(task));
            }
        }
        shard.head = Some(task);
        shard.len += 1;
        true
    }

    /// Unlinks a task. Returns true when it was linked: the caller then owns
    /// the reference the list held.
    pub(crate) fn remove(&self, task: NonNull<Header>) -> bool {
        // SAFETY: the caller holds a reference.
        let id = unsafe { header(task) }.id;
        let mut shard = lock(self.shard(id));
        // SAFETY: we hold the shard lock; linked neighbours are alive.
        unsafe {
            let (prev, next, linked) = links(task, |l| {
                let found = (l.prev, l.next, l.linked);
                *l = Links::default();
                found
            });
            if !linked {
                return false;
            }
            match prev {
                Some(prev) => links(prev, |l| l.next = next),
                None => shard.head = next,
            }
            if let Some(next) = next {
                links(next, |l| l.prev = prev);
            }
        }
        shard.len -= 1;
        true
    }

    /// Refuses every later insert.
    pub(crate) fn close(&self) {
        for shard in self.shards.iter() {
            lock(shard).closed = true;
        }
    }

    /// Closes every shard and returns the tasks that were linked, each with
    /// the reference the list held.
    pub(crate) fn close_and_take_all(&self) -> Vec<NonNull<Header>> {
        let mut taken = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            shard.closed = true;
            while let Some(task) = shard.head {
                // SAFETY: we hold the shard lock and the list's reference.
                shard.head = unsafe {
                    links(task, |l| {
                        let next = l.next;
                        *l = Links::default();
                        next
                    })
                };
                if let Some(next) = shard.head {
                    // SAFETY: as above.
                    unsafe { links(next, |l| l.prev = None) };
                }
                shard.len -= 1;
                taken.push(task);
            }
        }
        taken
    }

    /// Whether the list refuses new tasks.
    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.shards[0]).closed
    }

    /// References to every linked task that has not completed.
    pub(crate) fn snapshot(&self) -> Vec<TaskRef> {
        let mut tasks = Vec::new();
        for shard in self.shards.iter() {
            let shard = lock(shard);
            let mut cursor = shard.head;
            while let Some(task) = cursor {
                // SAFETY: we hold the shard lock; the list keeps the task alive.
                let h = unsafe { header(task) };
                if !h.state.load().is_complete() {
                    h.state.ref_inc();
                    // SAFETY: we just took the reference the TaskRef owns.
                    tasks.push(unsafe { TaskRef::from_raw(task) });
                }
                // SAFETY: as above.
                cursor = unsafe { links(task, |l| l.next) };
            }
        }
        tasks.sort_by_key(|t| t.id());
        tasks
    }

    /// How many tasks are linked.
    #[cfg(loom)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len).sum()
    }
}
