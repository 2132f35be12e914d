//! The slow-poll watchdog: while slow-poll detection is on, a timer on the
//! reactor fires every half threshold and, on the thread that fires it
//! (the reactor thread, or whichever thread drives the poller), looks at
//! the poll each worker is in. A poll that has run longer than the
//! threshold is reported at once, while it still runs: a task stuck in a
//! blocking call is named even if its poll never returns. Polls that do
//! return are reported by their worker when they end (`task::info`).
//!
//! The watchdog is a waker, not a task: it runs when its timer fires even
//! when every worker is stuck. With detection off it does not exist.

use std::sync::{Arc, Mutex};
use std::task::{Wake, Waker};
use std::time::{Duration, Instant};

use crate::reactor::{self, timer};
use crate::scheduler;
use crate::task::TaskInfo;
use crate::task::info::{PollTiming, now_stamp};
use crate::util::lock_std as lock;

/// The default slow-poll report: one line on stderr, in the words of
/// asyncio's debug mode.
pub(crate) fn report_to_stderr(task: &TaskInfo, took: Duration) {
    let what = if task.running_for().is_some() {
        "has been in one poll for"
    } else {
        "took"
    };
    eprintln!(
        "evloop: executing task #{} '{}' (spawned at {}) {what} {:.3} seconds; \
         blocking calls belong in run_in_executor",
        task.id(),
        task.name(),
        task.location(),
        took.as_secs_f64(),
    );
}

/// Looks for polls that run too long; see the module docs.
pub(crate) struct Watchdog {
    scheduler: Arc<scheduler::Shared>,
    reactor: reactor::Handle,
    timing: Arc<PollTiming>,
    threshold: Duration,
    period: Duration,
    /// `(worker, poll start)` of the polls already reported.
    reported: Mutex<Vec<(usize, u64)>>,
}

impl Watchdog {
    /// Starts watching, when `timing` has a threshold.
    pub(crate) fn start(
        scheduler: &Arc<scheduler::Shared>,
        reactor: &reactor::Handle,
        timing: &Arc<PollTiming>,
    ) {
        let Some(threshold) = timing.slow_poll_threshold else {
            return;
        };
        let period = (threshold / 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
        let watchdog = Arc::new(Watchdog {
            scheduler: scheduler.clone(),
            reactor: reactor.clone(),
            timing: timing.clone(),
            threshold,
            period,
            reported: Mutex::new(Vec::new()),
        });
        watchdog.arm();
    }

    /// Registers the next look with the reactor; not once the loop closes
    /// (its reactor then fires the last timer to let go of the watchdog).
    fn arm(self: Arc<Self>) {
        if self.scheduler.is_shutdown() || self.reactor.is_shutdown() {
            return;
        }
        let clock = self.reactor.clock();
        let entry = timer::TimerEntry::new(clock.deadline_tick(Instant::now() + self.period));
        entry.set_waker(&Waker::from(self.clone()));
        self.reactor.push_timer_op(timer::TimerOp::Register(entry));
    }

    /// Reports every poll that has run past the threshold and was not
    /// reported yet.
    fn look(&self) {
        let in_progress = self.scheduler.polls_in_progress();
        let now = now_stamp();
        let mut reported = lock(&self.reported);
        reported.retain(|seen| in_progress.iter().any(|(w, _, s)| (*w, *s) == *seen));
        for (worker, task, started) in in_progress {
            let running = Duration::from_nanos(now.saturating_sub(started));
            if running <= self.threshold || reported.contains(&(worker, started)) {
                continue;
            }
            reported.push((worker, started));
            let Some(info) = self.scheduler.task_info(task) else {
                continue;
            };
            if info.running_for().is_none() {
                // The poll ended meanwhile: its worker reports it.
                continue;
            }
            let hook = &self.timing.on_slow_poll;
            crate::util::contain_panic(|| hook(&info, running));
        }
    }
}

impl Wake for Watchdog {
    fn wake(self: Arc<Self>) {
        self.look();
        self.arm();
    }
}
