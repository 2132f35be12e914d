//! A fixed workload for counting instructions per poll under callgrind
//! (`scripts/poll_instructions.sh`): a loop of one worker, a task that
//! spawns N tasks that each `yield_now()` 10 times, then awaits them all.
//! Prints how many polls the worker ran.
//!
//! ```text
//! cargo bench --bench poll_cost -- [N] [default|off|precise]
//! ```
//!
//! `off` builds the loop with `Builder::count_polls(false)` (then the
//! printed count is what the default counts: N * 11 + the root's polls,
//! which this workload makes the same each run), `precise` with
//! `Builder::time_polls(true)`.

use std::time::Duration;

const YIELDS: usize = 10;

fn main() {
    // `cargo bench` passes `--bench`; skip flags.
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let tasks: usize = args
        .next()
        .map_or(2_000, |n| n.parse().expect("N: a number"));
    let mode = args.next().unwrap_or_else(|| "default".to_owned());
    let builder = evloop::EventLoop::builder().worker_threads(1);
    let builder = match mode.as_str() {
        "default" => builder,
        "off" => builder.count_polls(false),
        "precise" => builder.time_polls(true),
        other => panic!("unknown mode {other}: default, off or precise"),
    };
    let lp = builder.build().expect("a loop");
    let root = lp.handle().spawn(async move {
        let children: Vec<_> = (0..tasks)
            .map(|_| {
                evloop::spawn(async {
                    for _ in 0..YIELDS {
                        evloop::yield_now().await;
                    }
                })
            })
            .collect();
        for child in children {
            child.await.expect("the child finishes");
        }
    });
    lp.run_until_complete(root).expect("the root finishes");
    println!("polls {}", lp.handle().metrics().total_polls());
    lp.shutdown_timeout(Duration::from_secs(10));
}
