//! `Handle::metrics`, `Handle::dump` and slow-poll reports: every figure
//! moves as its workload says, from any thread, even while every worker is
//! busy.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::time::{Duration, Instant};

use evloop::task::TaskBuilder;
use evloop::{EventLoop, Metrics, TaskInfo, TaskState};

const PATIENCE: Duration = Duration::from_secs(20);

fn two_workers() -> EventLoop {
    EventLoop::builder().worker_threads(2).build().unwrap()
}

/// Reads metrics until `done` holds (a figure counted after the work it
/// counts settles a moment later); fails after a generous deadline.
fn metrics_until(lp: &EventLoop, what: &str, done: impl Fn(&Metrics) -> bool) -> Metrics {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let metrics = lp.handle().metrics();
        if done(&metrics) {
            return metrics;
        }
        assert!(Instant::now() < deadline, "never saw {what}: {metrics}");
        std::thread::yield_now();
    }
}

#[test]
fn n_spawns_are_at_least_n_polls_and_leave_no_live_task() {
    let lp = two_workers();
    let before = lp.handle().metrics();
    assert_eq!(before.workers.len(), 2);
    let tasks: Vec<_> = (0..200)
        .map(|i| lp.handle().spawn(async move { i }))
        .collect();
    for task in tasks {
        lp.run_until_complete(task).unwrap();
    }
    let after = metrics_until(&lp, "no live task", |m| m.live_tasks == 0);
    assert!(
        after.total_polls() >= before.total_polls() + 200,
        "{before}\n{after}"
    );
    lp.close();
}

#[test]
fn live_tasks_and_pending_timers_count_sleepers_exactly() {
    let lp = two_workers();
    let (polled_tx, polled_rx) = mpsc::channel();
    let sleepers: Vec<_> = (0..5)
        .map(|_| {
            let polled_tx = polled_tx.clone();
            lp.handle().spawn(async move {
                let sleep = evloop::sleep(Duration::from_secs(3600));
                polled_tx.send(()).unwrap();
                sleep.await
            })
        })
        .collect();
    for _ in 0..5 {
        polled_rx.recv().unwrap();
    }
    let metrics = metrics_until(&lp, "five timers", |m| m.pending_timers == 5);
    assert_eq!(metrics.live_tasks, 5, "{metrics}");
    for sleeper in &sleepers {
        sleeper.cancel();
    }
    metrics_until(&lp, "the timers cancelled", |m| {
        m.pending_timers == 0 && m.live_tasks == 0
    });
    lp.close();
}

#[test]
fn a_worker_steals_from_a_blocked_workers_queue() {
    let lp = two_workers();
    let ran = Arc::new(AtomicUsize::new(0));
    let (all_ran_tx, all_ran_rx) = mpsc::channel();
    let spawner = lp.handle().spawn({
        let ran = ran.clone();
        async move {
            for _ in 0..10 {
                let ran = ran.clone();
                let all_ran_tx = all_ran_tx.clone();
                drop(evloop::spawn(async move {
                    if ran.fetch_add(1, Ordering::SeqCst) + 1 == 9 {
                        let _ = all_ran_tx.send(());
                    }
                }));
            }
            // This worker stays busy until the other one has run the
            // tasks in its queue (the last spawned one waits in the slot
            // that is not stolen): they can only have been stolen.
            all_ran_rx
                .recv_timeout(PATIENCE)
                .expect("the other worker never stole the queued tasks");
        }
    });
    lp.run_until_complete(spawner).unwrap();
    let metrics = lp.handle().metrics();
    assert!(metrics.total_steals() >= 1, "{metrics}");
    lp.close();
}

#[test]
fn blocking_pool_threads_and_queue_depth() {
    let lp = EventLoop::builder()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let first = lp.handle().run_in_executor(move || {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
    });
    started_rx.recv().unwrap();
    let second = lp.handle().run_in_executor(|| ());
    let metrics = lp.handle().metrics();
    assert_eq!(metrics.blocking_threads, 1, "{metrics}");
    assert_eq!(metrics.blocking_queue_depth, 1, "{metrics}");
    release_tx.send(()).unwrap();
    lp.run_until_complete(first).unwrap();
    lp.run_until_complete(second).unwrap();
    assert_eq!(lp.handle().metrics().blocking_queue_depth, 0);
    lp.close();
}

#[test]
fn callbacks_run_counts_every_callback() {
    let lp = two_workers();
    let (tx, rx) = mpsc::channel();
    for i in 0..10 {
        let tx = tx.clone();
        lp.handle()
            .call_soon_threadsafe(move || tx.send(i).unwrap());
    }
    let cancelled = lp.handle().call_soon_threadsafe(|| unreachable!());
    cancelled.cancel();
    assert_eq!(rx.iter().take(10).count(), 10);
    let metrics = metrics_until(&lp, "ten callbacks", |m| m.callbacks_run >= 10);
    assert_eq!(metrics.callbacks_run, 10, "{metrics}");
    lp.close();
}

#[test]
fn io_sources_count_registered_sockets() {
    let lp = two_workers();
    let before = lp.handle().metrics().io_sources;
    let listener = lp
        .run_until_complete(evloop::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    assert_eq!(lp.handle().metrics().io_sources, before + 1);
    drop(listener);
    assert_eq!(lp.handle().metrics().io_sources, before);
    lp.close();
}

#[test]
fn busy_time_and_parks_move() {
    let lp = two_workers();
    let first = lp.handle().metrics();
    let spin = lp.handle().spawn(async {
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(50) {
            std::hint::spin_loop();
        }
    });
    lp.run_until_complete(spin).unwrap();
    let metrics = metrics_until(&lp, "a parked worker", |m| {
        m.workers.iter().any(|w| w.parked)
    });
    let busy_first: Duration = first.workers.iter().map(|w| w.busy).sum();
    let busy_now: Duration = metrics.workers.iter().map(|w| w.busy).sum();
    assert!(
        busy_now >= busy_first + Duration::from_millis(50),
        "{metrics}"
    );
    assert!(metrics.workers.iter().map(|w| w.parks).sum::<u64>() >= 1);
    lp.close();
}

/// An idle worker sleeps in the OS poller (`tests/io_path.rs` checks
/// that): while it is blocked there it counts as parked and its busy time
/// stands still; the task its readiness event wakes is polled and counted
/// as any other, on that worker.
#[test]
fn a_worker_blocked_in_the_poller_counts_as_parked_and_polls_what_it_wakes() {
    use std::io::Write;

    let lp = EventLoop::builder()
        .worker_threads(1)
        .thread_name("metrics-poller")
        .build()
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (sender, got) = mpsc::channel();
    let reader = lp.handle().spawn(async move {
        let mut stream = evloop::net::TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 4];
        let n = stream.read(&mut buf).await.unwrap();
        let thread = std::thread::current().name().map(str::to_owned);
        sender.send((buf[..n].to_vec(), thread)).unwrap();
    });
    let (mut peer, _) = listener.accept().unwrap();
    // Parked, and still parked in the same park a snapshot later: no clock
    // runs for it meanwhile.
    let (asleep, still) = loop {
        let asleep = metrics_until(&lp, "the worker asleep", |m| m.workers[0].parked);
        let still = lp.handle().metrics();
        if still.workers[0].parked && still.workers[0].parks == asleep.workers[0].parks {
            break (asleep, still);
        }
    };
    assert_eq!(still.workers[0].busy, asleep.workers[0].busy, "{still}");

    peer.write_all(b"ping").unwrap();
    let (bytes, ran_on) = got.recv_timeout(PATIENCE).expect("the read task ran");
    assert_eq!(bytes, b"ping");
    assert_eq!(ran_on.as_deref(), Some("metrics-poller-worker-0"));
    let after = metrics_until(&lp, "the worker asleep again", |m| {
        m.workers[0].parked && m.workers[0].parks > still.workers[0].parks
    });
    assert!(after.workers[0].polls > still.workers[0].polls, "{after}");
    assert!(after.workers[0].busy > still.workers[0].busy, "{after}");
    lp.run_until_complete(reader).unwrap();
    lp.close();
}

#[test]
fn dump_lists_named_tasks_with_their_spawn_site() {
    let lp = two_workers();
    let handle = lp.handle();
    let forever = || evloop::sleep(Duration::from_secs(3600));
    let alpha = TaskBuilder::new().name("alpha");
    let (a, line_a) = (alpha.spawn_on(forever(), &handle), line!());
    let (b, line_b) = (handle.spawn(forever()), line!());
    let (c, line_c) = (handle.run_coroutine_threadsafe(forever()), line!());
    let (inner_tx, inner_rx) = mpsc::channel();
    let spawner = handle.spawn(async move {
        let sleep = evloop::sleep(Duration::from_secs(3600));
        let inner = (TaskBuilder::new().name("delta").spawn(sleep), line!());
        inner_tx.send(inner).unwrap();
    });
    lp.run_until_complete(spawner).unwrap();
    let (d, line_d) = inner_rx.recv().unwrap();

    let dump = handle.dump();
    let find = |id: u64| -> &TaskInfo { dump.iter().find(|t| t.id() == id).unwrap() };
    for (id, line, name) in [
        (a.id(), line_a, Some("alpha")),
        (b.id(), line_b, None),
        (d.id(), line_d, Some("delta")),
    ] {
        let info = find(id);
        assert_eq!(info.location().file(), file!(), "{info}");
        assert_eq!(info.location().line(), line, "{info}");
        if let Some(name) = name {
            assert_eq!(info.name(), name);
        }
    }
    let c_info = dump
        .iter()
        .find(|t| t.location().line() == line_c)
        .expect("the run_coroutine_threadsafe task is listed");
    assert_eq!(c_info.location().file(), file!());
    let line = find(a.id()).to_string();
    assert!(line.contains("alpha") && line.contains(file!()), "{line}");
    for task in [&a, &b, &d] {
        task.cancel();
    }
    c.cancel();
    lp.close();
}

#[test]
fn dump_and_metrics_answer_while_both_workers_run_cpu_bound_polls() {
    let lp = EventLoop::builder()
        .worker_threads(2)
        .time_polls(true)
        .build()
        .unwrap();
    let barrier = Arc::new(Barrier::new(3));
    let stop = Arc::new(AtomicBool::new(false));
    let spinners: Vec<_> = (0..2)
        .map(|i| {
            let barrier = barrier.clone();
            let stop = stop.clone();
            TaskBuilder::new().name(format!("spinner-{i}")).spawn_on(
                async move {
                    barrier.wait();
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                },
                &lp.handle(),
            )
        })
        .collect();
    let handle = lp.handle();
    let observer = std::thread::spawn(move || {
        barrier.wait();
        (handle.dump(), handle.metrics())
    });
    let (dump, metrics) = observer.join().unwrap();
    stop.store(true, Ordering::Relaxed);
    for spinner in &spinners {
        let info = dump.iter().find(|t| t.id() == spinner.id()).unwrap();
        assert_eq!(info.state(), TaskState::Running, "{info}");
        assert!(info.running_for().is_some(), "{info}");
        assert_eq!(info.polls(), 1, "{info}");
    }
    assert!(metrics.workers.iter().all(|w| !w.parked), "{metrics}");
    for spinner in spinners {
        lp.run_until_complete(spinner).unwrap();
    }
    lp.close();
}

/// Spawns a task that spins for 20 ms in its first poll and then sleeps,
/// and returns it with its dump entry once it sleeps.
fn spin_20ms_then_sleep(lp: &EventLoop) -> (evloop::Task<()>, TaskInfo) {
    let (polled_tx, polled_rx) = mpsc::channel();
    let task = TaskBuilder::new().name("spinner").spawn_on(
        async move {
            let start = Instant::now();
            while start.elapsed() < Duration::from_millis(20) {
                std::hint::spin_loop();
            }
            polled_tx.send(()).unwrap();
            evloop::sleep(Duration::from_secs(3600)).await;
        },
        &lp.handle(),
    );
    polled_rx.recv().unwrap();
    let deadline = Instant::now() + PATIENCE;
    let info = loop {
        let info = lp
            .handle()
            .dump()
            .into_iter()
            .find(|t| t.id() == task.id())
            .unwrap();
        if info.state() == TaskState::Idle {
            break info;
        }
        assert!(Instant::now() < deadline, "{info}");
        std::thread::yield_now();
    };
    (task, info)
}

#[test]
fn a_default_loop_shows_time_in_poll_and_since_last_poll() {
    let lp = two_workers();
    let (task, info) = spin_20ms_then_sleep(&lp);
    // The default times polls with the loop's millisecond clock, late by
    // a tick (more on a busy machine): 20 ms show as more than 10.
    assert!(
        info.time_in_poll().unwrap() >= Duration::from_millis(10),
        "{info}"
    );
    assert!(info.since_last_poll().is_some(), "{info}");
    assert_eq!(info.running_for(), None);
    assert_eq!(info.polls(), 1);
    let metrics = lp.handle().metrics();
    let poll_time: Duration = metrics.workers.iter().map(|w| w.poll_time.unwrap()).sum();
    assert!(poll_time >= Duration::from_millis(10), "{metrics:?}");
    task.cancel();
    lp.close();
}

#[test]
fn timed_polls_show_time_in_poll_and_since_last_poll() {
    let lp = EventLoop::builder().time_polls(true).build().unwrap();
    let (task, info) = spin_20ms_then_sleep(&lp);
    assert!(
        info.time_in_poll().unwrap() >= Duration::from_millis(20),
        "{info}"
    );
    assert!(info.since_last_poll().is_some(), "{info}");
    assert_eq!(info.running_for(), None);
    task.cancel();
    lp.close();
}

#[test]
fn without_counting_the_dump_has_no_counts_and_no_times() {
    let lp = EventLoop::builder()
        .worker_threads(2)
        .count_polls(false)
        .build()
        .unwrap();
    let (task, info) = spin_20ms_then_sleep(&lp);
    assert_eq!(info.polls(), 0);
    assert_eq!(info.time_in_poll(), None);
    assert_eq!(info.since_last_poll(), None);
    let metrics = lp.handle().metrics();
    for worker in &metrics.workers {
        assert_eq!(worker.polls, 0, "{metrics}");
        assert_eq!(worker.steals, 0, "{metrics}");
        assert_eq!(worker.parks, 0, "{metrics}");
        assert_eq!(worker.busy, Duration::ZERO, "{metrics}");
        assert_eq!(worker.poll_time, None, "{metrics}");
    }
    assert_eq!(metrics.live_tasks, 1, "{metrics}");
    task.cancel();
    lp.close();
}

#[test]
fn the_task_in_the_lifo_slot_counts_in_the_local_queue_depth() {
    // One worker: nobody can steal the spawned task out of the slot while
    // the spawner holds the worker.
    let lp = EventLoop::builder().worker_threads(1).build().unwrap();
    let (spawned_tx, spawned_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let spawner = lp.handle().spawn(async move {
        // Spawned from the worker: it goes to the worker's LIFO slot.
        let child = evloop::spawn(async {});
        spawned_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        child.await.unwrap();
    });
    spawned_rx.recv().unwrap();
    let metrics = lp.handle().metrics();
    release_tx.send(()).unwrap();
    assert_eq!(metrics.workers[0].local_queue_depth, 1, "{metrics}");
    lp.run_until_complete(spawner).unwrap();
    lp.close();
}

type Reports = Arc<Mutex<Vec<(TaskInfo, Duration)>>>;

fn reporting_loop(threshold: Duration) -> (EventLoop, Reports, mpsc::Receiver<TaskInfo>) {
    let reports: Reports = Arc::default();
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let lp = EventLoop::builder()
        .worker_threads(2)
        .slow_poll_threshold(threshold)
        .on_slow_poll({
            let reports = reports.clone();
            move |info, took| {
                reports.lock().unwrap().push((info.clone(), took));
                let _ = tx.lock().unwrap().send(info.clone());
            }
        })
        .build()
        .unwrap();
    (lp, reports, rx)
}

#[test]
fn a_poll_blocking_200ms_is_reported_and_short_polls_are_not() {
    let (lp, reports, _rx) = reporting_loop(Duration::from_millis(100));
    let short: Vec<_> = (0..50)
        .map(|_| {
            lp.handle().spawn(async {
                for _ in 0..10 {
                    evloop::yield_now().await;
                }
            })
        })
        .collect();
    for task in short {
        lp.run_until_complete(task).unwrap();
    }
    assert!(reports.lock().unwrap().is_empty());

    let blocking = async { std::thread::sleep(Duration::from_millis(200)) };
    let sleepy = TaskBuilder::new().name("sleepy");
    let (slow, line) = (sleepy.spawn_on(blocking, &lp.handle()), line!());
    let id = slow.id();
    lp.run_until_complete(slow).unwrap();
    let reports = reports.lock().unwrap().clone();
    assert!(
        reports.iter().all(|(info, _)| info.id() == id),
        "{reports:?}"
    );
    let (info, took) = reports
        .iter()
        .find(|(info, _)| info.running_for().is_none())
        .expect("the poll was reported when it returned");
    assert_eq!(info.name(), "sleepy");
    assert_eq!(info.location().file(), file!());
    assert_eq!(info.location().line(), line);
    assert!(*took >= Duration::from_millis(200), "{took:?}");
    lp.close();
}

#[test]
fn a_poll_that_does_not_return_is_reported_while_it_runs() {
    let (lp, _reports, rx) = reporting_loop(Duration::from_millis(50));
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let stuck = TaskBuilder::new().name("stuck").spawn_on(
        async move {
            // Returns only once the test has seen the report: the report
            // cannot have come from the end of the poll.
            release_rx.recv().unwrap();
        },
        &lp.handle(),
    );
    let info = rx
        .recv_timeout(PATIENCE)
        .expect("no report of the stuck poll");
    assert_eq!(info.name(), "stuck");
    assert_eq!(info.state(), TaskState::Running);
    assert!(
        info.running_for().unwrap() > Duration::from_millis(50),
        "{info}"
    );
    release_tx.send(()).unwrap();
    lp.run_until_complete(stuck).unwrap();
    lp.close();
}

#[test]
fn a_panicking_slow_poll_hook_does_not_stop_the_loop() {
    let lp = EventLoop::builder()
        .worker_threads(1)
        .slow_poll_threshold(Duration::from_millis(10))
        .on_slow_poll(|_, _| panic!("hook failed"))
        .build()
        .unwrap();
    let slow = lp
        .handle()
        .spawn(async { std::thread::sleep(Duration::from_millis(30)) });
    lp.run_until_complete(slow).unwrap();
    assert_eq!(
        lp.run_until_complete(lp.handle().spawn(async { 7 }))
            .unwrap(),
        7
    );
    lp.close();
}
