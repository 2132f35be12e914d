//! loom models of evloop's cross-thread handoffs.
//!
//! Every model in `tests/` drives the real evloop code (through the hidden
//! `evloop::loom_hooks` and `evloop::bridge::loom_hooks` modules) and lets
//! loom explore the interleavings of its threads. Build and run with
//!
//! ```text
//! RUSTFLAGS="--cfg loom --cfg oneshot_loom" \
//!     cargo test --release --manifest-path loom-tests/Cargo.toml
//! ```
//!
//! `LOOM_MAX_PREEMPTIONS` bounds how many times loom may preempt a thread
//! in one execution; without it each model uses its own default
//! ([`DEFAULT_PREEMPTIONS`] unless it says otherwise, see
//! [`model_with_preemptions`]). The other `LOOM_*` variables of
//! `loom::model::Builder` apply as usual.
//!
//! Model files are named for the part they exercise: `task_*` (the task
//! state machine, driven through `evloop::loom_hooks::TaskQueue`),
//! `scheduler_*` (the real scheduler and worker loop), `bridge_*` (the
//! thread-loop bridge), `callbacks_*` (the callback queues), `io_*` (the
//! poller handoff, and a source's readiness), `timer_*` (timer
//! registration and fire) and `blocking_*` (the blocking pool).
//!
//! This file holds what the models share: [`model`], counters that record
//! what happened (polls, drops, callback runs), and small futures with a
//! known behaviour.

/// The preemption bound used when `LOOM_MAX_PREEMPTIONS` is not set.
pub const DEFAULT_PREEMPTIONS: usize = 3;

#[cfg(not(loom))]
#[test]
fn built_with_cfg_loom() {
    panic!(
        "the loom models only exist with `--cfg loom`: run \
         RUSTFLAGS=\"--cfg loom --cfg oneshot_loom\" cargo test --release \
         --manifest-path loom-tests/Cargo.toml"
    );
}

#[cfg(loom)]
pub use imp::*;

#[cfg(loom)]
mod imp {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc as StdArc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Wake, Waker};

    use loom::alloc::Track;
    use loom::sync::{Mutex, Notify};

    use super::DEFAULT_PREEMPTIONS;

    /// Checks `f` under every interleaving loom explores within the
    /// preemption bound (`LOOM_MAX_PREEMPTIONS`, default
    /// [`DEFAULT_PREEMPTIONS`]).
    pub fn model<F>(f: F)
    where
        F: Fn() + Sync + Send + 'static,
    {
        model_with_preemptions(DEFAULT_PREEMPTIONS, f);
    }

    /// Like [`model`], with `preemptions` as the bound when
    /// `LOOM_MAX_PREEMPTIONS` is not set: for models whose state space
    /// grows too fast for the usual bound.
    pub fn model_with_preemptions<F>(preemptions: usize, f: F)
    where
        F: Fn() + Sync + Send + 'static,
    {
        let mut builder = loom::model::Builder::new();
        if builder.preemption_bound.is_none() {
            builder.preemption_bound = Some(preemptions);
        }
        let bound = builder.preemption_bound.unwrap_or(preemptions);
        let executions = Counter::new();
        builder.check({
            let executions = executions.clone();
            move || {
                executions.increment();
                f();
            }
        });
        // Shown with `--nocapture`: how much of the space the bound let
        // loom explore.
        println!(
            "{}: {} executions explored, preemption bound {bound}",
            std::thread::current().name().unwrap_or("model"),
            executions.get()
        );
    }

    /// Counts events (polls, drops, callback runs) for the model to assert
    /// on once its threads are joined.
    ///
    /// A plain atomic rather than a loom one: it observes the code under
    /// test and must not add interleavings of its own. loom runs every
    /// thread of an execution on one OS thread, so the count is exact.
    #[derive(Clone, Debug, Default)]
    pub struct Counter(StdArc<AtomicUsize>);

    impl Counter {
        /// A counter at zero.
        pub fn new() -> Counter {
            Counter::default()
        }

        /// Counts one event.
        pub fn increment(&self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }

        /// The events counted so far.
        pub fn get(&self) -> usize {
            self.0.load(Ordering::Relaxed)
        }
    }

    /// Which outcomes a model reached, over all the executions loom
    /// explored: a model whose race has several legal endings checks that
    /// each of them was reached, so that a bound too tight to reach them
    /// fails instead of passing vacuously. Meant for a `static`.
    #[derive(Debug)]
    pub struct Coverage {
        outcomes: &'static [&'static str],
        reached: std::sync::Mutex<Vec<&'static str>>,
    }

    impl Coverage {
        /// Coverage of the given outcome names.
        pub const fn new(outcomes: &'static [&'static str]) -> Coverage {
            Coverage {
                outcomes,
                reached: std::sync::Mutex::new(Vec::new()),
            }
        }

        /// Records that an execution ended with `outcome`.
        pub fn reached(&self, outcome: &'static str) {
            assert!(
                self.outcomes.contains(&outcome),
                "unknown outcome {outcome:?}"
            );
            let mut reached = self.reached.lock().unwrap();
            if !reached.contains(&outcome) {
                reached.push(outcome);
            }
        }

        /// Panics unless every outcome was reached.
        pub fn assert_all_reached(&self) {
            let reached = self.reached.lock().unwrap();
            for outcome in self.outcomes {
                assert!(
                    reached.contains(outcome),
                    "no explored execution ended with {outcome:?}"
                );
            }
        }
    }

    /// A value that counts its drops. loom also tracks it as an allocation,
    /// so a probe that is never dropped fails the model as a leak.
    #[derive(Debug)]
    pub struct DropProbe {
        drops: Counter,
        _tracked: Track<()>,
    }

    impl DropProbe {
        /// A probe that increments `drops` when dropped.
        pub fn new(drops: &Counter) -> DropProbe {
            DropProbe {
                drops: drops.clone(),
                _tracked: Track::new(()),
            }
        }
    }

    impl Drop for DropProbe {
        fn drop(&mut self) {
            self.drops.increment();
        }
    }

    /// A future that wakes itself and returns `Pending` `yields` times (like
    /// `evloop::yield_now`), then returns its output. Counts its polls; its
    /// drop is counted by the probe it holds.
    pub struct YieldThen<T> {
        yields: usize,
        output: Option<T>,
        polls: Counter,
        _probe: DropProbe,
    }

    impl<T> YieldThen<T> {
        /// A future that yields `yields` times, then returns `output`.
        pub fn new(yields: usize, output: T, polls: &Counter, drops: &Counter) -> YieldThen<T> {
            YieldThen {
                yields,
                output: Some(output),
                polls: polls.clone(),
                _probe: DropProbe::new(drops),
            }
        }
    }

    impl<T: Unpin> Future for YieldThen<T> {
        type Output = T;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
            self.polls.increment();
            if self.yields > 0 {
                self.yields -= 1;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(self.output.take().expect("polled after completion"))
        }
    }

    /// A future that, on its first poll, posts a clone of its waker to a
    /// [`Mailbox`] and returns `Pending`; any later poll returns its output.
    /// So a thread that takes the waker can wake the task while that first
    /// poll is still running.
    pub struct PendingUntilWoken<T> {
        waker_out: Option<StdArc<Mailbox<Waker>>>,
        output: Option<T>,
        polls: Counter,
        _probe: DropProbe,
    }

    impl<T> PendingUntilWoken<T> {
        /// A future that posts its waker to `waker_out`, then returns
        /// `output` when polled again.
        pub fn new(
            waker_out: StdArc<Mailbox<Waker>>,
            output: T,
            polls: &Counter,
            drops: &Counter,
        ) -> PendingUntilWoken<T> {
            PendingUntilWoken {
                waker_out: Some(waker_out),
                output: Some(output),
                polls: polls.clone(),
                _probe: DropProbe::new(drops),
            }
        }
    }

    impl<T: Unpin> Future for PendingUntilWoken<T> {
        type Output = T;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
            self.polls.increment();
            if let Some(mailbox) = self.waker_out.take() {
                mailbox.send(cx.waker().clone());
                return Poll::Pending;
            }
            Poll::Ready(self.output.take().expect("polled after completion"))
        }
    }

    /// A one-message channel between two loom threads: the receiver blocks
    /// (as far as loom is concerned) until the message is sent.
    #[derive(Debug)]
    pub struct Mailbox<T> {
        slot: Mutex<Option<T>>,
        posted: Notify,
    }

    impl<T> Mailbox<T> {
        /// An empty mailbox.
        pub fn new() -> Mailbox<T> {
            Mailbox {
                slot: Mutex::new(None),
                posted: Notify::new(),
            }
        }

        /// Posts the message.
        pub fn send(&self, message: T) {
            *self.slot.lock().unwrap() = Some(message);
            self.posted.notify();
        }

        /// Waits for the message and takes it.
        pub fn recv(&self) -> T {
            loop {
                // loom's `Notify` may wake spuriously: check the slot.
                self.posted.wait();
                if let Some(message) = self.slot.lock().unwrap().take() {
                    return message;
                }
            }
        }
    }

    impl<T> Default for Mailbox<T> {
        fn default() -> Mailbox<T> {
            Mailbox::new()
        }
    }

    /// A waker that only counts its wakes, for polling a `Task` handle by
    /// hand.
    #[derive(Debug, Default)]
    pub struct CountingWaker {
        wakes: Counter,
    }

    impl CountingWaker {
        /// A waker counting into `wakes`.
        pub fn waker(wakes: &Counter) -> Waker {
            Waker::from(StdArc::new(CountingWaker {
                wakes: wakes.clone(),
            }))
        }
    }

    impl Wake for CountingWaker {
        fn wake(self: StdArc<Self>) {
            self.wakes.increment();
        }
    }
}
