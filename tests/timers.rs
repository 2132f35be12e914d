//! Timers: sleep, sleep_until, Sleep::reset, timeout / wait_for, and the
//! loop's timed callbacks (call_later / call_at).

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use evloop::time::Sleep;
use evloop::{EventLoop, Handle, TimeoutError, sleep, sleep_until, timeout, wait_for};

fn two_workers() -> EventLoop {
    EventLoop::builder().worker_threads(2).build().unwrap()
}

/// A waker that reports its wake-up (with the instant) on a channel.
struct ReportingWaker {
    id: usize,
    woken: mpsc::Sender<(usize, Instant)>,
}

impl Wake for ReportingWaker {
    fn wake(self: Arc<Self>) {
        let _ = self.woken.send((self.id, Instant::now()));
    }
}

/// Polls `sleep` once with `waker`, registering its timer.
fn poll_once(sleep: &mut Sleep, waker: &Waker) -> Poll<()> {
    Pin::new(sleep).poll(&mut Context::from_waker(waker))
}

/// A small deterministic pseudo-random sequence (xorshift).
fn pseudo_random(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn timers_fire_in_deadline_order_and_never_early() {
    let lp = two_workers();
    let (sender, woken) = mpsc::channel();
    // Far enough ahead that registering every timer (even under valgrind)
    // finishes before the first deadline.
    let start = Instant::now() + Duration::from_millis(500);
    // Deadlines 3 ms apart, registered in shuffled order.
    let mut order: Vec<usize> = (0..30).collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15;
    for i in (1..order.len()).rev() {
        order.swap(i, (pseudo_random(&mut seed) % (i as u64 + 1)) as usize);
    }
    let deadlines: Vec<Instant> = (0..30)
        .map(|i| start + Duration::from_millis(3 * i as u64))
        .collect();
    let mut sleeps = lp.run_until_complete(async {
        let mut sleeps = Vec::new();
        for &i in &order {
            let mut sleep = sleep_until(deadlines[i]);
            let waker = Waker::from(Arc::new(ReportingWaker {
                id: i,
                woken: sender.clone(),
            }));
            assert!(poll_once(&mut sleep, &waker).is_pending());
            sleeps.push((sleep, waker));
        }
        sleeps
    });
    let fired: Vec<(usize, Instant)> = (0..30).map(|_| woken.recv().unwrap()).collect();
    let ids: Vec<usize> = fired.iter().map(|&(id, _)| id).collect();
    assert_eq!(ids, (0..30).collect::<Vec<_>>());
    for &(id, at) in &fired {
        assert!(at >= deadlines[id], "timer {id} fired early");
    }
    for (sleep, waker) in &mut sleeps {
        assert!(poll_once(sleep, waker).is_ready());
    }
    drop(sleeps);
    lp.close();
}

#[test]
fn a_hundred_thousand_concurrent_sleeps_all_complete() {
    let lp = two_workers();
    let completed = Arc::new(AtomicUsize::new(0));
    let early = Arc::new(AtomicUsize::new(0));
    lp.run_until_complete(async {
        let mut seed = 42;
        let tasks: Vec<_> = (0..100_000)
            .map(|_| {
                let delay = Duration::from_millis(1 + pseudo_random(&mut seed) % 50);
                let completed = completed.clone();
                let early = early.clone();
                evloop::spawn(async move {
                    let start = Instant::now();
                    sleep(delay).await;
                    if start.elapsed() < delay {
                        early.fetch_add(1, Ordering::Relaxed);
                    }
                    completed.fetch_add(1, Ordering::Relaxed);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(Handle::current().pending_timers(), 0);
    });
    assert_eq!(completed.load(Ordering::Relaxed), 100_000);
    assert_eq!(early.load(Ordering::Relaxed), 0);
    lp.close();
}

#[test]
fn a_dropped_sleep_never_fires_and_its_timer_is_removed() {
    let lp = two_workers();
    let (sender, woken) = mpsc::channel();
    lp.run_until_complete(async {
        let reporter = Arc::new(ReportingWaker {
            id: 0,
            woken: sender,
        });
        let waker = Waker::from(reporter.clone());
        // Deadlines far enough ahead that none can fire before the drop,
        // even on a loaded machine.
        let mut sleeps: Vec<Sleep> = (0..1000)
            .map(|i| sleep(Duration::from_millis(500 + i % 20)))
            .collect();
        for sleep in &mut sleeps {
            assert!(poll_once(sleep, &waker).is_pending());
        }
        drop(waker);
        drop(sleeps);
        // Dropping a sleep releases its waker at once.
        assert_eq!(Arc::strong_count(&reporter), 1);
        // Outlive every dropped deadline; the reactor also processes the
        // cancellations on the way.
        sleep(Duration::from_millis(550)).await;
        assert_eq!(Handle::current().pending_timers(), 0);
    });
    assert!(woken.try_recv().is_err(), "a dropped sleep fired");
    lp.close();
}

#[test]
fn a_sleep_re_polled_with_the_same_waker_keeps_one_timer() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let mut sleep = sleep(Duration::from_secs(3600));
        poll_fn(|cx| {
            for _ in 0..1000 {
                assert!(Pin::new(&mut sleep).poll(cx).is_pending());
            }
            Poll::Ready(())
        })
        .await;
        evloop::sleep(Duration::from_millis(2)).await;
        assert_eq!(Handle::current().pending_timers(), 1);
    });
    lp.close();
}

#[test]
fn reset_moves_the_deadline_earlier_and_later() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let mut long = sleep(Duration::from_secs(3600));
        poll_fn(|cx| {
            assert!(Pin::new(&mut long).poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        let earlier = Instant::now() + Duration::from_millis(5);
        long.reset(earlier);
        assert_eq!(long.deadline(), earlier);
        (&mut long).await;
        assert!(Instant::now() >= earlier);

        let later = Instant::now() + Duration::from_millis(10);
        long.reset(later);
        assert!(!long.is_elapsed());
        (&mut long).await;
        assert!(Instant::now() >= later);
    });
    lp.close();
}

#[test]
fn sleeping_for_duration_max_does_not_panic() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let forever = sleep(Duration::MAX);
        assert!(forever.deadline() > Instant::now() + Duration::from_secs(86_400 * 365));
        assert_eq!(
            timeout(Duration::from_millis(5), forever).await,
            Err(TimeoutError::default())
        );
        let far = Instant::now() + Duration::from_secs(u32::MAX as u64 * 1000);
        assert!(
            timeout(Duration::from_millis(5), sleep_until(far))
                .await
                .is_err()
        );
        assert!(timeout(Duration::MAX, async { 1 }).await.is_ok());
    });
    lp.close();
}

#[test]
fn a_zero_sleep_and_a_past_deadline_complete_at_once() {
    let lp = two_workers();
    lp.run_until_complete(async {
        sleep(Duration::ZERO).await;
        sleep_until(Instant::now()).await;
        assert_eq!(Handle::current().pending_timers(), 0);
    });
    lp.close();
}

/// Counts how often it was dropped.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn timeout_drops_the_inner_future_before_returning_the_error() {
    let lp = two_workers();
    let drops = Arc::new(AtomicUsize::new(0));
    lp.run_until_complete(async {
        let guard = DropCounter(drops.clone());
        let inner = async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        };
        let result = timeout(Duration::from_millis(5), inner).await;
        assert_eq!(result, Err(TimeoutError::default()));
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
    lp.close();
}

#[test]
fn timeout_returns_the_output_of_a_future_that_finishes_in_time() {
    let lp = two_workers();
    lp.run_until_complete(async {
        let quick = async {
            sleep(Duration::from_millis(1)).await;
            "done"
        };
        assert_eq!(timeout(Duration::from_secs(5), quick).await, Ok("done"));
        // The timeout's own timer is gone with it.
        sleep(Duration::from_millis(1)).await;
        assert_eq!(Handle::current().pending_timers(), 0);
    });
    lp.close();
}

#[test]
fn wait_for_takes_the_future_first_like_asyncio() {
    let lp = two_workers();
    lp.run_until_complete(async {
        assert_eq!(wait_for(async { 3 }, Duration::from_secs(1)).await, Ok(3));
        let slow = sleep(Duration::from_secs(60));
        let error = wait_for(slow, Duration::from_millis(2)).await.unwrap_err();
        let error: std::io::Error = error.into();
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
    });
    lp.close();
}

#[test]
fn call_later_runs_the_callback_after_the_delay_on_a_worker() {
    let lp = two_workers();
    let (sender, ran) = mpsc::channel();
    let start = Instant::now();
    lp.handle().call_later(Duration::from_millis(10), move || {
        let thread = std::thread::current().name().map(str::to_owned);
        sender.send((Instant::now(), thread)).unwrap();
    });
    let (at, thread) = ran.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(at - start >= Duration::from_millis(10));
    assert!(!thread.unwrap_or_default().ends_with("-reactor"));
    lp.close();
}

#[test]
fn a_cancelled_call_later_never_runs() {
    let lp = two_workers();
    let handle = lp.handle();
    let (sender, ran) = mpsc::channel();
    let cancelled_sender = sender.clone();
    let cancelled = handle.call_later(Duration::from_millis(5), move || {
        cancelled_sender.send("cancelled one").unwrap();
    });
    assert!(cancelled.cancel());
    assert!(cancelled.cancelled());
    // Due later than the cancelled one: once it ran, the other would have.
    handle.call_later(Duration::from_millis(20), move || {
        sender.send("later one").unwrap()
    });
    assert_eq!(ran.recv_timeout(Duration::from_secs(10)), Ok("later one"));
    assert!(ran.try_recv().is_err());
    assert!(!cancelled.cancel());
    lp.close();
}

#[test]
fn callbacks_due_at_the_same_instant_run_in_scheduling_order() {
    let lp = two_workers();
    let handle = lp.handle();
    let order = Arc::new(Mutex::new(Vec::new()));
    let (sender, done) = mpsc::channel();
    let when = handle.time() + Duration::from_millis(10);
    for i in 0..200 {
        let order = order.clone();
        handle.call_at(when, move || order.lock().unwrap().push(i));
    }
    handle.call_at(when, move || sender.send(()).unwrap());
    done.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(*order.lock().unwrap(), (0..200).collect::<Vec<_>>());
    lp.close();
}

#[test]
fn zero_and_negative_delays_run_as_soon_as_possible_in_order() {
    let lp = two_workers();
    let handle = lp.handle();
    let order = Arc::new(Mutex::new(Vec::new()));
    let (sender, done) = mpsc::channel();
    let past = handle.time();
    for i in 0..50 {
        let order = order.clone();
        handle.call_at(past, move || order.lock().unwrap().push(i));
    }
    handle.call_later(Duration::ZERO, move || sender.send(()).unwrap());
    done.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(*order.lock().unwrap(), (0..50).collect::<Vec<_>>());
    lp.close();
}

#[test]
fn a_panicking_callback_does_not_stop_the_next_one() {
    let lp = two_workers();
    let handle = lp.handle();
    let (sender, ran) = mpsc::channel();
    let when = handle.time() + Duration::from_millis(2);
    handle.call_at(when, || panic!("callback failure (expected by the test)"));
    handle.call_at(when, move || sender.send(()).unwrap());
    assert!(ran.recv_timeout(Duration::from_secs(10)).is_ok());
    lp.close();
}

#[test]
fn a_closed_loop_refuses_timed_callbacks() {
    let lp = two_workers();
    let handle = lp.handle();
    lp.close();
    let callback = handle.call_later(Duration::ZERO, || unreachable!());
    assert!(callback.is_loop_closed());
    assert!(!callback.cancel());
}

#[test]
fn a_sleep_pending_when_the_loop_closes_is_dropped_with_its_task() {
    let lp = two_workers();
    let drops = Arc::new(AtomicUsize::new(0));
    let guard = DropCounter(drops.clone());
    let (sender, started) = mpsc::channel();
    let _sleeper = lp.handle().spawn(async move {
        let _guard = guard;
        sender.send(()).unwrap();
        sleep(Duration::from_secs(3600)).await;
    });
    started.recv().unwrap();
    lp.close();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

/// asyncio reports the expiry of nested timeouts with one deadline from the
/// outermost only: here the error is at the outer level of the result.
#[test]
fn nested_timeouts_with_one_deadline_report_from_the_outermost() {
    use evloop::time::timeout_at;
    evloop::run(async {
        let deadline = Instant::now() + Duration::from_millis(20);
        let inner = timeout_at(deadline, evloop::sleep(Duration::from_secs(10)));
        let outcome = timeout_at(deadline, inner).await;
        assert!(
            outcome.is_err(),
            "the outer timeout reports, got {outcome:?}"
        );
        // Three levels: still the outermost.
        let deadline = Instant::now() + Duration::from_millis(20);
        let pending = std::future::pending::<()>();
        let outcome = timeout_at(
            deadline,
            timeout_at(deadline, timeout_at(deadline, pending)),
        )
        .await;
        assert!(outcome.is_err(), "got {outcome:?}");
    });
}

/// An inner timeout that expires while the outer one has not reports
/// itself, at the inner level.
#[test]
fn an_inner_timeout_that_expires_first_reports_itself() {
    use evloop::time::timeout_at;
    evloop::run(async {
        let now = Instant::now();
        let inner = timeout_at(
            now + Duration::from_millis(10),
            std::future::pending::<()>(),
        );
        let outcome = timeout_at(now + Duration::from_secs(10), inner).await;
        assert!(matches!(outcome, Ok(Err(_))), "got {outcome:?}");
    });
}

/// When the task runs only after both deadlines passed, the outermost
/// reports, as in asyncio (whose inner timeout sees a cancellation that is
/// not its own).
#[test]
fn when_both_deadlines_passed_before_the_task_ran_the_outer_reports() {
    use evloop::time::timeout_at;
    evloop::run(async {
        let now = Instant::now();
        let (inner_deadline, outer_deadline) = (
            now + Duration::from_millis(5),
            now + Duration::from_millis(10),
        );
        let mut first_poll = true;
        // Keeps its thread busy past both deadlines, then waits forever.
        let busy = std::future::poll_fn(move |_| {
            if first_poll {
                first_poll = false;
                std::thread::sleep(outer_deadline - now + Duration::from_millis(5));
            }
            std::task::Poll::<()>::Pending
        });
        let outcome = timeout_at(outer_deadline, timeout_at(inner_deadline, busy)).await;
        assert!(outcome.is_err(), "got {outcome:?}");
    });
}

#[test]
fn a_timed_callback_pending_at_close_reads_loop_closed_and_cannot_be_cancelled() {
    let lp = two_workers();
    let callback = lp
        .handle()
        .call_later(Duration::from_secs(3600), || unreachable!());
    lp.close();
    assert!(callback.is_loop_closed());
    assert!(!callback.cancel());
    assert!(!callback.cancelled() && !callback.started());
}

#[test]
fn timed_callbacks_submitted_by_eight_threads_during_close_all_run_or_read_loop_closed() {
    for cycle in 0..20 {
        let lp = two_workers();
        let handle = lp.handle();
        let ran = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(std::sync::Barrier::new(9));
        let submitters: Vec<_> = (0..8)
            .map(|thread| {
                let (handle, ran, start) = (handle.clone(), ran.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    let mut callbacks = Vec::new();
                    for i in 0..500u64 {
                        // Due now, soon, and long after the close.
                        let delay = Duration::from_millis([0, 1, 3_600_000][(i % 3) as usize]);
                        let ran = ran.clone();
                        callbacks.push(handle.call_later(delay, move || {
                            ran.fetch_add(1, Ordering::SeqCst);
                        }));
                        if i == 250 && thread == 0 {
                            std::thread::yield_now();
                        }
                    }
                    callbacks
                })
            })
            .collect();
        start.wait();
        lp.close();
        let callbacks: Vec<_> = submitters
            .into_iter()
            .flat_map(|submitter| submitter.join().unwrap())
            .collect();
        let lost = callbacks
            .iter()
            .filter(|c| !c.started() && !c.is_loop_closed())
            .count();
        assert_eq!(lost, 0, "cycle {cycle}: callbacks neither run nor refused");
        let started = callbacks.iter().filter(|c| c.started()).count();
        assert_eq!(ran.load(Ordering::SeqCst), started, "cycle {cycle}");
    }
}

/// A waker that panics when woken: user code the reactor must survive.
struct PanickingWaker;

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("expected: this waker panics when woken");
    }
}

#[test]
fn a_panicking_timer_waker_does_not_kill_the_reactor() {
    let lp = two_workers();
    let (sender, woken) = mpsc::channel();
    let _in_loop = lp.handle().enter();
    // Two timers due in the same reactor pass, and one due later.
    let deadline = Instant::now() + Duration::from_millis(20);
    let mut panicking = sleep_until(deadline);
    let mut same_pass = sleep_until(deadline);
    let mut later = sleep_until(deadline + Duration::from_millis(20));
    let panics = Waker::from(Arc::new(PanickingWaker));
    assert!(poll_once(&mut panicking, &panics).is_pending());
    for (id, sleep) in [(1, &mut same_pass), (2, &mut later)] {
        let reports = Waker::from(Arc::new(ReportingWaker {
            id,
            woken: sender.clone(),
        }));
        assert!(poll_once(sleep, &reports).is_pending());
    }
    let mut ids: Vec<usize> = (0..2)
        .map(|_| woken.recv_timeout(Duration::from_secs(30)).unwrap().0)
        .collect();
    ids.sort();
    assert_eq!(ids, [1, 2]);
    assert_eq!(lp.handle().pending_timers(), 0);
}

#[test]
fn pending_timers_counts_every_registered_timer_at_once() {
    let lp = two_workers();
    let handle = lp.handle();
    const SLEEPERS: usize = 10_000;
    let (registered_tx, registered) = mpsc::channel();
    let sleepers: Vec<_> = (0..SLEEPERS)
        .map(|_| {
            let registered_tx = registered_tx.clone();
            handle.spawn(async move {
                let mut sleep = sleep(Duration::from_secs(3600));
                // The first poll registers the timer.
                assert!(timeout(Duration::ZERO, &mut sleep).await.is_err());
                registered_tx.send(()).unwrap();
                sleep.await;
            })
        })
        .collect();
    for _ in 0..SLEEPERS {
        registered.recv().unwrap();
    }
    assert_eq!(handle.pending_timers(), SLEEPERS);
    let (cancelled, kept): (Vec<_>, Vec<_>) = sleepers
        .into_iter()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    for (_, task) in cancelled {
        task.cancel();
        assert!(lp.run_until_complete(task).unwrap_err().is_cancelled());
    }
    assert_eq!(handle.pending_timers(), SLEEPERS / 2);
    drop(kept);
    lp.close();
    assert_eq!(handle.pending_timers(), 0);
}
