//! The pool of threads that run blocking jobs.
//!
//! One mutex guards the job queue and the counts; one condvar wakes idle
//! threads, another tells a closing loop that the last running job ended.
//!
//! - **Submit**: if a thread is idle and not yet spoken for, queue the job
//!   and wake one (`notified` counts the wake-ups in flight, so two quick
//!   submissions never count on the same idle thread); else, below the thread limit,
//!   start a thread that runs this job first; else queue it for the next
//!   thread that comes free.
//! - **A thread** runs jobs from the queue until it is empty, then waits
//!   up to the keep-alive for more; when nothing came, it exits.
//! - **Shutdown**: refuse queued jobs and new ones, wake every idle thread
//!   so it exits, and wait (up to a deadline) until no job runs.
//! - **User code** (a job, and the destructors a job owns) runs with no lock
//!   held and with its panic contained, so a panic can neither leave the
//!   counts wrong nor kill a pool thread or the closing thread.
//! - **No thread**: when the OS refuses to start a thread and none exists
//!   to take the job later, the job is refused with the OS's error.

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

// Through the loom switch, so that the models of the pool see its lock,
// its condition variables and its threads.
use crate::loom::{Arc, Condvar, Mutex, MutexGuard, thread};
use crate::task::context::{self, EnteredLoop};
use crate::util::{contain_panic, ignore_poison, lock};

/// A job queued on the pool: either runs, or is refused.
pub(crate) trait Job: Send + 'static {
    /// Runs the job on a pool thread.
    fn run(self: Box<Self>);
    /// The job will never run, for the reason `why`: tells its waiter so.
    fn refuse(self: Box<Self>, why: Refusal);
}

/// Why the pool refused a job.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The loop closed before the job started.
    LoopClosed,
    /// The pool has no thread and the OS refused to start one.
    NoThread(io::Error),
}

/// Runs `job`, containing a panic of the user code in it.
fn run_contained(job: Box<dyn Job>) {
    contain_panic(move || job.run());
}

/// Refuses `job`, containing a panic of the destructors it runs.
fn refuse_contained(job: Box<dyn Job>, why: Refusal) {
    contain_panic(move || job.refuse(why));
}

struct State {
    queue: VecDeque<Box<dyn Job>>,
    /// Live pool threads.
    threads: usize,
    /// Threads waiting for a job.
    idle: usize,
    /// Wake-ups handed to idle threads and not consumed yet: `idle -
    /// notified` threads are free for a new job.
    notified: usize,
    /// Threads running a job right now.
    running: usize,
    shutdown: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes idle threads.
    work_available: Condvar,
    /// Signals the end of a job to a closing loop.
    job_finished: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    thread_name: String,
}

/// A loop's blocking pool.
pub(crate) struct Pool {
    shared: Arc<Shared>,
}

impl Pool {
    pub(crate) fn new(max_threads: usize, keep_alive: Duration, thread_name: String) -> Pool {
        Pool {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    notified: 0,
                    running: 0,
                    shutdown: false,
                }),
                work_available: Condvar::new(),
                job_finished: Condvar::new(),
                max_threads,
                keep_alive,
                thread_name,
            }),
        }
    }

    /// Live pool threads, and jobs queued for a thread to come free, read
    /// under the pool's lock.
    pub(crate) fn figures(&self) -> (usize, usize) {
        let state = lock(&self.shared.state);
        (state.threads, state.queue.len())
    }

    /// Hands `job` to a pool thread (starting one if none is free and the
    /// limit allows), or queues it. On a closed pool the job is refused.
    /// New threads run in the loop that `entered` gives.
    pub(crate) fn submit(&self, job: Box<dyn Job>, entered: impl FnOnce() -> EnteredLoop) {
        let mut state = lock(&self.shared.state);
        if state.shutdown {
            drop(state);
            refuse_contained(job, Refusal::LoopClosed);
            return;
        }
        if state.idle > state.notified {
            state.notified += 1;
            state.queue.push_back(job);
            drop(state);
            self.shared.work_available.notify_one();
            return;
        }
        if state.threads >= self.shared.max_threads {
            state.queue.push_back(job);
            return;
        }
        state.threads += 1;
        state.running += 1;
        drop(state);
        if let Err((err, job)) = self.spawn_thread(job, entered()) {
            // The OS refused a thread: queue the job for a thread that
            // exists, or refuse it when there is none.
            let mut state = lock(&self.shared.state);
            state.threads -= 1;
            state.running -= 1;
            if state.threads == 0 {
                drop(state);
                refuse_contained(job, Refusal::NoThread(err));
            } else {
                state.queue.push_back(job);
            }
        }
    }

    fn spawn_thread(
        &self,
        first: Box<dyn Job>,
        entered: EnteredLoop,
    ) -> Result<(), (io::Error, Box<dyn Job>)> {
        // The job travels through a slot so that a failed spawn gives it back.
        let slot = Arc::new(Mutex::new(Some(first)));
        let shared = self.shared.clone();
        let job = slot.clone();
        let spawned = thread::Builder::new()
            .name(format!("{}-blocking", self.shared.thread_name))
            .spawn(move || {
                let _context = context::enter(entered);
                let first = lock(&job).take();
                drop(job);
                shared.run_thread(first);
            });
        match spawned {
            Ok(_) => Ok(()),
            Err(err) => {
                let job = lock(&slot).take();
                match job {
                    Some(job) => Err((err, job)),
                    None => Ok(()),
                }
            }
        }
    }

    /// Refuses the queued jobs and every later one, and lets idle threads
    /// exit. Running jobs carry on.
    pub(crate) fn begin_shutdown(&self) {
        let queued = {
            let mut state = lock(&self.shared.state);
            state.shutdown = true;
            std::mem::take(&mut state.queue)
        };
        self.shared.work_available.notify_all();
        for job in queued {
            refuse_contained(job, Refusal::LoopClosed);
        }
    }

    /// Waits until no job runs (not counting one this thread runs), at most
    /// until `deadline`. Returns false when jobs were still running then.
    pub(crate) fn wait_for_running_jobs(&self, deadline: Option<Instant>) -> bool {
        let shared = &*self.shared;
        let own = usize::from(std::ptr::eq(
            context::blocking_pool(),
            (shared as *const Shared).cast(),
        ));
        let mut state = lock(&shared.state);
        while state.running > own {
            state = match deadline {
                None => ignore_poison(shared.job_finished.wait(state)),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    ignore_poison(shared.job_finished.wait_timeout(state, left)).0
                }
            };
        }
        true
    }
}

impl Shared {
    /// A pool thread's life: `first` (already counted as running), then
    /// queued jobs, then waiting for more up to the keep-alive.
    fn run_thread(&self, first: Option<Box<dyn Job>>) {
        context::set_blocking_pool((self as *const Shared).cast());
        if let Some(job) = first {
            run_contained(job);
        }
        let mut state = lock(&self.state);
        state.running -= 1;
        self.job_finished.notify_all();
        loop {
            if let Some(job) = state.queue.pop_front() {
                state.running += 1;
                drop(state);
                run_contained(job);
                state = lock(&self.state);
                state.running -= 1;
                self.job_finished.notify_all();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let timed_out;
            (state, timed_out) = self.wait_for_work(state);
            state.idle -= 1;
            if state.notified > 0 {
                // Whichever idle thread wakes first takes the wake-up.
                state.notified -= 1;
            } else if timed_out && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
        drop(state);
        context::set_blocking_pool(std::ptr::null());
    }

    /// An idle thread waits for a wake-up, at most the keep-alive. Returns
    /// the guard and whether the keep-alive ran out.
    ///
    /// In a model, time passes at once: a zero keep-alive lets the other
    /// threads run and then runs out, and any other keep-alive never does
    /// (loom's timed wait never times out), so a model picks the one it
    /// checks.
    fn wait_for_work<'a>(&'a self, state: MutexGuard<'a, State>) -> (MutexGuard<'a, State>, bool) {
        if crate::loom::LOOM && self.keep_alive.is_zero() {
            drop(state);
            thread::yield_now();
            return (lock(&self.state), true);
        }
        let (state, waited) =
            ignore_poison(self.work_available.wait_timeout(state, self.keep_alive));
        (state, waited.timed_out())
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = lock(&self.shared.state);
        f.debug_struct("Pool")
            .field("threads", &state.threads)
            .field("running", &state.running)
            .field("queued", &state.queue.len())
            .finish()
    }
}
