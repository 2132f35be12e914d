//! `evloop::gather` against tokio's `JoinSet`, two worker threads each.
//!
//! - **gather 100k from outside**: the future driven by
//!   `run_until_complete` / `block_on` (on the calling thread, not a worker)
//!   gathers 100 000 trivial futures, so every spawn goes through the
//!   runtime's injection queue.
//! - **gather 100k from a task**: the same from inside a spawned task, so
//!   the spawns land in a worker's local queue.
//!
//! evloop: `gather(futures).await`, which spawns each future as a task and
//! collects the values in input order. tokio: spawn each into a `JoinSet`
//! and `join_next` until it is empty, collecting in completion order (tokio
//! has no ordered gather; the ordering costs evloop a little).
//!
//! The time until the gathering future is done counts.

use std::future::Future;

use crate::measure::{Section, timed};
use crate::runtimes::{Evloop, Runtime, Tokio};
use crate::table::Row;

const FUTURES: u64 = 100_000;

pub fn rows() -> Vec<Row> {
    let mut section = Section::new();
    section
        .time(
            "combinators: gather 100k trivial futures, from outside the loop",
            "ms",
            |rt| timed(|| rt.block_on(evloop_gather())),
            |rt| timed(|| rt.block_on(tokio_join_set())),
        )
        .time(
            "combinators: gather 100k trivial futures, from a task",
            "ms",
            |rt| timed(|| rt.block_on(in_a_task::<Evloop>(evloop_gather()))),
            |rt| timed(|| rt.block_on(in_a_task::<Tokio>(tokio_join_set()))),
        );
    section.into_rows()
}

/// Runs `future` as a task of the current runtime and waits for it.
async fn in_a_task<R: Runtime>(future: impl Future<Output = ()> + Send + 'static) {
    R::spawn(future)
        .await
        .expect("the gathering task succeeds");
}

async fn evloop_gather() {
    let values = evloop::gather((0..FUTURES).map(|i| async move { i }))
        .await
        .expect("no child fails");
    assert_eq!(values.len() as u64, FUTURES);
}

async fn tokio_join_set() {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..FUTURES {
        set.spawn(async move { i });
    }
    let mut values = Vec::with_capacity(FUTURES as usize);
    while let Some(value) = set.join_next().await {
        values.push(value.expect("no child fails"));
    }
    assert_eq!(values.len() as u64, FUTURES);
}
