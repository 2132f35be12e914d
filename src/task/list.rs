//! The live-task list: every task that has not completed, so that
//! `all_tasks()` can list them and loop shutdown can drop every remaining
//! future exactly once.
//!
//! An intrusive doubly linked list per shard (`raw::LinkedTasks`: the links
//! live in the task header), each shard behind its own mutex so that spawns
//! on different workers rarely contend. The list holds one reference to each
//! task it links. Closing the list (loop shutdown) refuses further inserts.

use std::future::Future;
use std::panic::Location;
use std::sync::Arc as StdArc;

use crossbeam_utils::CachePadded;

use super::info::{TaskStats, now_stamp};
use super::raw::{self, LinkedTasks, Notified, Schedule};
use super::{Task, TaskInfo, TaskRef, next_task_id};
use crate::loom::{LOOM, Mutex};
use crate::util::lock;

struct Shard {
    tasks: LinkedTasks,
    closed: bool,
}

/// How many shards; a power of two, so a task's shard is a mask of its id.
const SHARDS: usize = if LOOM { 2 } else { 64 };

/// Each shard's lock sits on its own cache line: neighbouring shards are
/// taken by different workers at once, and sharing a line would make them
/// contend as if they were one lock.
pub(crate) struct TaskList {
    /// The id every task of this list carries (see `raw::LinkedTasks`).
    owner: u64,
    shards: Box<[CachePadded<Mutex<Shard>>]>,
}

impl TaskList {
    pub(crate) fn new() -> TaskList {
        let (owner, shards) = LinkedTasks::new_list(SHARDS);
        TaskList {
            owner,
            shards: shards
                .into_iter()
                .map(|tasks| {
                    CachePadded::new(Mutex::new(Shard {
                        tasks,
                        closed: false,
                    }))
                })
                .collect(),
        }
    }

    fn shard(&self, id: u64) -> &Mutex<Shard> {
        &self.shards[(id as usize) & (SHARDS - 1)]
    }

    /// Allocates a task run by `scheduler` and links it here. Returns its
    /// handle, and its first run for the caller to queue; or no run when the
    /// list is closed: the task is then already complete with a "loop
    /// closed" error. The caller's caller is the task's spawn site.
    #[track_caller]
    pub(crate) fn bind<F>(
        &self,
        future: F,
        name: Option<Box<str>>,
        scheduler: StdArc<dyn Schedule>,
    ) -> (Task<F::Output>, Option<Notified>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let stats = TaskStats::new(Location::caller());
        let (join, notified, list_ref) =
            raw::new_task(future, next_task_id(), name, scheduler, self.owner, stats);
        let task = Task::new(join);
        let mut shard = lock(self.shard(task.id()));
        if shard.closed {
            drop(shard);
            notified.refuse(list_ref);
            return (task, None);
        }
        shard.tasks.push_front(list_ref);
        (task, Some(notified))
    }

    /// Unlinks a task. Returns the reference the list held, or `None` when
    /// it was not linked.
    pub(crate) fn remove(&self, task: &TaskRef) -> Option<TaskRef> {
        lock(self.shard(task.id())).tasks.remove(task)
    }

    /// Refuses every later insert.
    pub(crate) fn close(&self) {
        for shard in self.shards.iter() {
            lock(shard).closed = true;
        }
    }

    /// Closes every shard and returns the tasks that were linked, each with
    /// the reference the list held.
    pub(crate) fn close_and_take_all(&self) -> Vec<TaskRef> {
        let mut taken = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            shard.closed = true;
            while let Some(task) = shard.tasks.pop_front() {
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
            lock(shard).tasks.incomplete(&mut tasks);
        }
        tasks.sort_by_key(|t| t.id());
        tasks
    }

    /// How many tasks are linked: each shard's count, read under its lock.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).tasks.len()).sum()
    }

    /// The figures of every linked task, in spawn order. Each shard is
    /// locked only while its tasks are read; no task is polled or waited for.
    pub(crate) fn dump(&self) -> Vec<TaskInfo> {
        let mut tasks = Vec::new();
        for shard in self.shards.iter() {
            lock(shard).tasks.linked(&mut tasks);
        }
        let now = now_stamp();
        let mut infos: Vec<TaskInfo> = tasks.iter().map(|task| task.info(now)).collect();
        infos.sort_by_key(TaskInfo::id);
        infos
    }

    /// The figures of the linked task with this id, if there is one.
    pub(crate) fn info(&self, id: u64) -> Option<TaskInfo> {
        let task = lock(self.shard(id)).tasks.find(id)?;
        Some(task.info(now_stamp()))
    }
}
