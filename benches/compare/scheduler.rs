//! tokio's own scheduler workloads (its `rt_multi_threaded` benches), run
//! on both runtimes with the same code (see `runtimes.rs`).
//!
//! Differences from tokio's definitions, all applied to both sides:
//! - `spawn_many_local` spawns its 10 000 tasks from inside a spawned task,
//!   so that they go to a worker's local queue on both runtimes (tokio's
//!   version spawns from `block_on`, which on the multi-thread runtime is
//!   not a worker thread).
//! - `ping_pong` uses the `oneshot` crate's channel on both sides, so the
//!   comparison is of schedulers and not of oneshot implementations.
//! - 2 worker threads instead of tokio's 4.
//!
//! Completion is signalled the way tokio's benches do: a shared countdown
//! and a std channel that the driving thread blocks on.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc;
use std::time::Duration;

use crate::measure::{Section, timed};
use crate::runtimes::{Evloop, Peer, Runtime, Tokio, Uncounted, peer_is_uncounted};
use crate::table::Row;

const NUM_SPAWN: usize = 10_000;
const YIELD_TASKS: usize = 200;
const NUM_YIELD: usize = 1_000;
const NUM_PINGS: usize = 1_000;
const CHAIN: usize = 1_000;

pub fn rows() -> Vec<Row> {
    if peer_is_uncounted() {
        rows_against::<Uncounted>()
    } else {
        rows_against::<Tokio>()
    }
}

/// The rows, with `P` in the peer column.
fn rows_against<P: Peer>() -> Vec<Row> {
    let mut section = Section::<P>::against();
    section
        .time(
            "spawn_many_local",
            "ms",
            spawn_many_local::<Evloop>,
            spawn_many_local::<P>,
        )
        .time(
            "spawn_many_remote_idle",
            "ms",
            spawn_many_remote_idle::<Evloop>,
            spawn_many_remote_idle::<P>,
        )
        .note(
            "asyncio and uvloop: run_coroutine_threadsafe from a plain thread into the loop's \
             thread, then waiting for every future",
        )
        .time("yield_many", "ms", yield_many::<Evloop>, yield_many::<P>)
        .time("ping_pong", "ms", ping_pong::<Evloop>, ping_pong::<P>)
        .time(
            "chained_spawn",
            "ms",
            chained_spawn::<Evloop>,
            chained_spawn::<P>,
        );
    section.into_rows()
}

/// 10 000 spawns of an empty-ish task from inside a task; done when the
/// last one ran.
fn spawn_many_local<R: Runtime>(rt: &R) -> Duration {
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    let remaining = Arc::new(AtomicUsize::new(NUM_SPAWN));
    timed(|| {
        rt.block_on(async move {
            drop(R::spawn(async move {
                for _ in 0..NUM_SPAWN {
                    let done_tx = done_tx.clone();
                    let remaining = remaining.clone();
                    drop(R::spawn(async move {
                        if remaining.fetch_sub(1, Relaxed) == 1 {
                            done_tx.send(()).unwrap();
                        }
                    }));
                }
            }));
            done_rx.recv().unwrap();
        })
    })
}

/// 10 000 spawns from a plain thread into an idle runtime, then awaiting
/// every handle.
fn spawn_many_remote_idle<R: Runtime>(rt: &R) -> Duration {
    let mut handles = Vec::with_capacity(NUM_SPAWN);
    timed(|| {
        for _ in 0..NUM_SPAWN {
            handles.push(rt.spawn_remote(async {}));
        }
        rt.block_on(async {
            for handle in handles.drain(..) {
                handle.await.unwrap();
            }
        });
    })
}

/// 200 tasks that each yield 1 000 times.
fn yield_many<R: Runtime>(rt: &R) -> Duration {
    let (done_tx, done_rx) = mpsc::sync_channel(YIELD_TASKS);
    timed(|| {
        for _ in 0..YIELD_TASKS {
            let done_tx = done_tx.clone();
            drop(rt.spawn_remote(async move {
                for _ in 0..NUM_YIELD {
                    R::yield_now().await;
                }
                done_tx.send(()).unwrap();
            }));
        }
        for _ in 0..YIELD_TASKS {
            done_rx.recv().unwrap();
        }
    })
}

/// 1 000 times: a task spawns a partner, and the two exchange a message
/// each way through a pair of oneshot channels.
fn ping_pong<R: Runtime>(rt: &R) -> Duration {
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    let remaining = Arc::new(AtomicUsize::new(NUM_PINGS));
    timed(|| {
        rt.block_on(async move {
            drop(R::spawn(async move {
                for _ in 0..NUM_PINGS {
                    let remaining = remaining.clone();
                    let done_tx = done_tx.clone();
                    drop(R::spawn(async move {
                        let (tx1, rx1) = oneshot::channel::<()>();
                        let (tx2, rx2) = oneshot::channel::<()>();
                        drop(R::spawn(async move {
                            rx1.await.unwrap();
                            tx2.send(()).unwrap();
                        }));
                        tx1.send(()).unwrap();
                        rx2.await.unwrap();
                        if remaining.fetch_sub(1, Relaxed) == 1 {
                            done_tx.send(()).unwrap();
                        }
                    }));
                }
            }));
            done_rx.recv().unwrap();
        })
    })
}

/// A chain of 1 000 tasks, each spawning the next.
fn chained_spawn<R: Runtime>(rt: &R) -> Duration {
    fn link<R: Runtime>(done_tx: mpsc::SyncSender<()>, n: usize) {
        if n == 0 {
            done_tx.send(()).unwrap();
        } else {
            drop(R::spawn(async move { link::<R>(done_tx, n - 1) }));
        }
    }
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    timed(|| {
        rt.block_on(async move {
            drop(R::spawn(async move { link::<R>(done_tx, CHAIN) }));
            done_rx.recv().unwrap();
        })
    })
}
