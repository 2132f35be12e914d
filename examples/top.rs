//! `top` for an evloop loop: a live view of its workers and busiest tasks,
//! refreshed each second, read from `Handle::metrics` and `Handle::dump`
//! on a plain thread while the loop runs a load this example makes itself.
//!
//! ```text
//! cargo run --release --example top                 # until Ctrl-C
//! cargo run --release --example top -- --seconds 5  # five frames, then exit
//! cargo run --release --example top -- --once       # one frame, no screen clearing
//! ```
//!
//! The load: tickers that sleep and wake; pairs of tasks passing a ball
//! over a queue; a spawner that starts short jobs; and one task
//! ("cruncher") that never returns from its poll, as a CPU-bound loop
//! written without an `.await` would, saturating the worker it runs on
//! (the slow-poll watchdog names it while it runs). The other worker runs
//! the rest.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use evloop::sync::Queue;
use evloop::task::TaskBuilder;
use evloop::{EventLoop, Handle, Metrics, TaskInfo};

const BAR_WIDTH: usize = 30;
const BUSIEST: usize = 10;

enum Frames {
    Forever,
    Count(u64),
}

fn parse_args() -> Result<(Frames, bool), String> {
    let mut args = std::env::args().skip(1);
    let mut frames = Frames::Forever;
    let mut clear = true;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--once" => {
                frames = Frames::Count(1);
                clear = false;
            }
            "--seconds" => {
                let n = args.next().ok_or("--seconds needs a number")?;
                let n: u64 = n
                    .parse()
                    .map_err(|_| format!("not a number of seconds: {n}"))?;
                frames = Frames::Count(n.max(1));
            }
            "--no-clear" => clear = false,
            other => {
                return Err(format!(
                    "unknown argument {other}; try --once or --seconds N"
                ));
            }
        }
    }
    Ok((frames, clear))
}

fn main() -> ExitCode {
    let (frames, clear) = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("top: {message}");
            return ExitCode::FAILURE;
        }
    };
    let slow_polls: Arc<Mutex<Vec<String>>> = Arc::default();
    let lp = EventLoop::builder()
        .worker_threads(2)
        .slow_poll_threshold(Duration::from_millis(100))
        .on_slow_poll({
            let slow_polls = slow_polls.clone();
            move |task, took| {
                let mut log = slow_polls.lock().unwrap();
                log.push(format!(
                    "slow poll: #{} {} {} {:.1}s (spawned at {})",
                    task.id(),
                    task.name(),
                    if task.running_for().is_some() {
                        "still running after"
                    } else {
                        "took"
                    },
                    took.as_secs_f64(),
                    task.location(),
                ));
            }
        })
        .build()
        .expect("an event loop");
    let stop = Arc::new(AtomicBool::new(false));
    start_load(&lp.handle(), &stop);

    let mut previous: Option<(Instant, Metrics, HashMap<u64, Duration>)> = None;
    let mut shown = 0;
    // The first frame compares with a snapshot taken a second earlier.
    let (at, metrics, dump) = snapshot(&lp.handle());
    previous.replace((at, metrics, busy_by_task(&dump)));
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let (at, metrics, dump) = snapshot(&lp.handle());
        let (then, before, busy_before) = previous.take().expect("a previous snapshot");
        let frame = render(
            at - then,
            &before,
            &metrics,
            &busy_before,
            &dump,
            &slow_polls.lock().unwrap(),
        );
        if clear {
            print!("\x1b[2J\x1b[H");
        }
        println!("{frame}");
        previous = Some((at, metrics, busy_by_task(&dump)));
        shown += 1;
        if matches!(frames, Frames::Count(n) if shown >= n) {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    lp.close();
    ExitCode::SUCCESS
}

fn snapshot(handle: &Handle) -> (Instant, Metrics, Vec<TaskInfo>) {
    (Instant::now(), handle.metrics(), handle.dump())
}

fn busy_by_task(dump: &[TaskInfo]) -> HashMap<u64, Duration> {
    dump.iter()
        .map(|t| (t.id(), t.time_in_poll().unwrap_or_default()))
        .collect()
}

/// The example's load; see the module docs.
fn start_load(handle: &Handle, stop: &Arc<AtomicBool>) {
    for i in 0..4 {
        let period = Duration::from_millis(5 * (i + 1));
        let ticker = async move {
            loop {
                evloop::sleep(period).await;
                busy_for(Duration::from_micros(300));
            }
        };
        drop(
            TaskBuilder::new()
                .name(format!("ticker-{i}"))
                .spawn_on(ticker, handle),
        );
    }

    for pair in 0..2 {
        let to_pong = evloop::sync::Queue::new(1);
        let to_ping = evloop::sync::Queue::new(1);
        let player = |name: String, inbox: Queue<u64>, outbox: Queue<u64>, serve: bool| {
            let game = async move {
                if serve {
                    let _ = outbox.put(0).await;
                }
                while let Ok(ball) = inbox.get().await {
                    busy_for(Duration::from_micros(150));
                    evloop::sleep(Duration::from_millis(1)).await;
                    if outbox.put(ball + 1).await.is_err() {
                        break;
                    }
                }
            };
            drop(TaskBuilder::new().name(name).spawn_on(game, handle));
        };
        player(
            format!("ping-{pair}"),
            to_ping.clone(),
            to_pong.clone(),
            true,
        );
        player(format!("pong-{pair}"), to_pong, to_ping, false);
    }

    // Last, once the rest runs: the worker that picks it up is lost to
    // the others from then on.
    let spin_until_stopped = {
        let stop = stop.clone();
        async move {
            evloop::sleep(Duration::from_millis(20)).await;
            let mut x: u64 = 1;
            while !stop.load(Ordering::Relaxed) {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                std::hint::black_box(x);
            }
        }
    };
    drop(
        TaskBuilder::new()
            .name("cruncher")
            .spawn_on(spin_until_stopped, handle),
    );

    let spawner = async {
        let mut n = 0u64;
        loop {
            evloop::sleep(Duration::from_millis(5)).await;
            for _ in 0..20 {
                n += 1;
                drop(evloop::spawn(async move { std::hint::black_box(n * n) }));
            }
        }
    };
    drop(TaskBuilder::new().name("spawner").spawn_on(spawner, handle));
}

fn busy_for(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

fn bar(fraction: f64) -> String {
    let filled = ((fraction.clamp(0.0, 1.0) * BAR_WIDTH as f64).round()) as usize;
    format!("{}{}", "█".repeat(filled), "·".repeat(BAR_WIDTH - filled))
}

fn render(
    wall: Duration,
    before: &Metrics,
    now: &Metrics,
    busy_before: &HashMap<u64, Duration>,
    dump: &[TaskInfo],
    slow_polls: &[String],
) -> String {
    let secs = wall.as_secs_f64();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "evloop top: {} workers, {} live tasks, injector {}, timers {}, io sources {}, \
         blocking threads {} (queued {}), callbacks run {}",
        now.workers.len(),
        now.live_tasks,
        now.injector_depth,
        now.pending_timers,
        now.io_sources,
        now.blocking_threads,
        now.blocking_queue_depth,
        now.callbacks_run,
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "WORKER  UTIL                                   POLLS/s  STEALS/s  PARKS/s  QUEUE"
    );
    for (i, (w0, w1)) in before.workers.iter().zip(&now.workers).enumerate() {
        // Time in polls (exact here: a slow-poll threshold times each
        // poll); time awake when the loop does not count polls.
        let used = match (w0.poll_time, w1.poll_time) {
            (Some(t0), Some(t1)) => t1.saturating_sub(t0),
            _ => w1.busy.saturating_sub(w0.busy),
        };
        let util = used.as_secs_f64() / secs;
        let _ = writeln!(
            out,
            "{i:>6}  {} {:>4.0}%  {:>8.0}  {:>8.0}  {:>7.0}  {:>5}",
            bar(util),
            (util * 100.0).min(100.0),
            (w1.polls - w0.polls) as f64 / secs,
            (w1.steals - w0.steals) as f64 / secs,
            (w1.parks - w0.parks) as f64 / secs,
            w1.local_queue_depth,
        );
    }
    let _ = writeln!(out);
    let mut busiest: Vec<(&TaskInfo, Duration)> = dump
        .iter()
        .map(|t| {
            let total = t.time_in_poll().unwrap_or_default();
            let earlier = busy_before.get(&t.id()).copied().unwrap_or_default();
            (t, total.saturating_sub(earlier))
        })
        .collect();
    busiest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.id().cmp(&b.0.id())));
    let _ = writeln!(
        out,
        "  ID  NAME          STATE       CPU%     POLLS  IN POLL  SPAWNED AT"
    );
    for (task, recent) in busiest.into_iter().take(BUSIEST) {
        let _ = writeln!(
            out,
            "{:>4}  {:<12}  {:<9}  {:>5.1}  {:>8}  {:>6.2}s  {}",
            task.id(),
            task.name(),
            task.state().to_string(),
            recent.as_secs_f64() / secs * 100.0,
            task.polls(),
            task.time_in_poll().unwrap_or_default().as_secs_f64(),
            task.location(),
        );
    }
    if !slow_polls.is_empty() {
        let _ = writeln!(out);
        for line in slow_polls.iter().rev().take(3) {
            let _ = writeln!(out, "{line}");
        }
    }
    out
}
