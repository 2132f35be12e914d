//! `wait` (CPython's test_asyncio `test_wait*` behaviours).

mod common;

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use common::event_loop;
use evloop::{Promise, ReturnWhen, Task, wait};

/// A task that returns `value` once `gate` is set.
fn gated<T: Clone + Send + 'static>(gate: &Promise<T>) -> Task<T> {
    let gate = gate.clone();
    evloop::spawn(async move { gate.await.unwrap() })
}

/// Polls `future` once; true when it is still pending.
async fn still_pending<F: Future + Unpin>(future: &mut F) -> bool {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx).is_pending())).await
}

/// Yields until every task but the main future's helpers is gone.
async fn until_live_tasks(count: usize) {
    while evloop::all_tasks().len() > count {
        evloop::yield_now().await;
    }
}

#[test]
fn first_completed_returns_the_finished_task_and_leaves_the_rest_pending() {
    let lp = event_loop(2, "wait-first");
    lp.run_until_complete(async {
        let gates: Vec<Promise<u8>> = (0..3).map(|_| Promise::new()).collect();
        let tasks: Vec<_> = gates.iter().map(gated).collect();
        let ids: Vec<u64> = tasks.iter().map(Task::id).collect();
        let mut waiting = wait(tasks, ReturnWhen::FirstCompleted, None);
        assert!(still_pending(&mut waiting).await);
        gates[1].set_result(11).unwrap();
        let (mut done, pending) = waiting.await.unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].id(), ids[1]);
        assert_eq!(done[0].try_result().unwrap().unwrap(), 11);
        assert_eq!(
            pending.iter().map(Task::id).collect::<Vec<_>>(),
            vec![ids[0], ids[2]]
        );
        assert!(
            pending.iter().all(|t| !t.done() && !t.cancelled()),
            "nothing was cancelled"
        );
        for gate in &gates {
            let _ = gate.set_result(0);
        }
    });
}

#[test]
fn all_completed_waits_for_every_task() {
    let lp = event_loop(2, "wait-all");
    lp.run_until_complete(async {
        let gates: Vec<Promise<usize>> = (0..3).map(|_| Promise::new()).collect();
        let tasks: Vec<_> = gates.iter().map(gated).collect();
        let mut waiting = wait(tasks, ReturnWhen::AllCompleted, None);
        for (i, gate) in gates.iter().enumerate() {
            assert!(still_pending(&mut waiting).await);
            gate.set_result(i).unwrap();
            until_live_tasks(2 - i).await;
        }
        let (done, pending) = waiting.await.unwrap();
        assert!(pending.is_empty());
        let mut values = Vec::new();
        for task in done {
            values.push(task.await.unwrap());
        }
        assert_eq!(values, vec![0, 1, 2], "done keeps the input order");
    });
}

#[test]
fn first_exception_returns_at_the_first_panic() {
    let lp = event_loop(2, "wait-exc");
    lp.run_until_complete(async {
        let gate: Promise<()> = Promise::new();
        let stuck = gated(&gate);
        let failing = evloop::spawn(async { panic!("failed") });
        let (mut done, pending) = wait([stuck, failing], ReturnWhen::FirstException, None)
            .await
            .unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(pending.len(), 1);
        let error = done[0].try_result().unwrap().unwrap_err();
        assert_eq!(error.panic_message(), Some("failed"));
        gate.set_result(()).unwrap();
    });
}

#[test]
fn first_exception_does_not_count_a_cancellation() {
    let lp = event_loop(2, "wait-exc-cancel");
    lp.run_until_complete(async {
        let gate: Promise<()> = Promise::new();
        let cancelled = evloop::spawn(std::future::pending::<()>());
        cancelled.cancel();
        until_live_tasks(0).await;
        assert!(cancelled.cancelled());
        let mut waiting = wait([cancelled, gated(&gate)], ReturnWhen::FirstException, None);
        assert!(
            still_pending(&mut waiting).await,
            "a cancelled task is no exception"
        );
        gate.set_result(()).unwrap();
        let (done, pending) = waiting.await.unwrap();
        assert_eq!((done.len(), pending.len()), (2, 0));
    });
}

#[test]
fn first_exception_without_a_failure_waits_for_every_task() {
    let lp = event_loop(2, "wait-exc-none");
    lp.run_until_complete(async {
        let gates: Vec<Promise<u8>> = (0..2).map(|_| Promise::new()).collect();
        let mut waiting = wait(gates.iter().map(gated), ReturnWhen::FirstException, None);
        gates[0].set_result(1).unwrap();
        until_live_tasks(1).await;
        assert!(still_pending(&mut waiting).await);
        gates[1].set_result(2).unwrap();
        let (done, pending) = waiting.await.unwrap();
        assert_eq!((done.len(), pending.len()), (2, 0));
    });
}

#[test]
fn tasks_already_done_are_returned_done() {
    let lp = event_loop(1, "wait-done");
    lp.run_until_complete(async {
        let task = evloop::spawn(async { 3 });
        until_live_tasks(0).await;
        let (mut done, pending) = wait([task], ReturnWhen::AllCompleted, None).await.unwrap();
        assert!(pending.is_empty());
        assert_eq!(done[0].try_result().unwrap().unwrap(), 3);
    });
}

#[test]
fn an_empty_input_is_an_error_value() {
    let lp = event_loop(1, "wait-empty");
    let error = lp
        .run_until_complete(wait(
            Vec::<Task<()>>::new(),
            ReturnWhen::FirstCompleted,
            None,
        ))
        .unwrap_err();
    assert!(error.to_string().contains("no tasks"));
}

#[test]
fn waiting_in_a_loop_on_the_pending_tasks_sees_each_finish() {
    let lp = event_loop(2, "wait-loop");
    lp.run_until_complete(async {
        let gates: Vec<Promise<usize>> = (0..5).map(|_| Promise::new()).collect();
        let mut pending: Vec<_> = gates.iter().map(gated).collect();
        let mut finished = Vec::new();
        for (i, gate) in gates.iter().enumerate().rev() {
            gate.set_result(i).unwrap();
            let (done, rest) = wait(pending, ReturnWhen::FirstCompleted, None)
                .await
                .unwrap();
            for task in done {
                finished.push(task.await.unwrap());
            }
            pending = rest;
        }
        assert!(pending.is_empty());
        assert_eq!(finished, vec![4, 3, 2, 1, 0]);
    });
}

#[test]
fn a_timeout_returns_the_split_without_an_error_and_cancels_nothing() {
    let lp = event_loop(2, "wait-timeout");
    lp.run_until_complete(async {
        let gate: Promise<()> = Promise::new();
        let quick = evloop::spawn(async {});
        let stuck = gated(&gate);
        let (stuck_id, quick_id) = (stuck.id(), quick.id());
        let (done, pending) = wait(
            [stuck, quick],
            ReturnWhen::AllCompleted,
            Some(Duration::from_millis(20)),
        )
        .await
        .unwrap();
        assert_eq!(
            done.iter().map(Task::id).collect::<Vec<_>>(),
            vec![quick_id]
        );
        assert_eq!(
            pending.iter().map(Task::id).collect::<Vec<_>>(),
            vec![stuck_id]
        );
        assert!(!pending[0].done(), "the timeout cancelled nothing");
        gate.set_result(()).unwrap();
        for task in pending {
            task.await.unwrap();
        }
    });
}

#[test]
fn a_long_timeout_does_not_hold_up_a_condition_met_earlier() {
    let lp = event_loop(2, "wait-timeout-long");
    lp.run_until_complete(async {
        let gate = Promise::new();
        let task = gated(&gate);
        let waiting = wait(
            [task],
            ReturnWhen::FirstCompleted,
            Some(Duration::from_secs(3600)),
        );
        gate.set_result(1).unwrap();
        let (done, _) = waiting.await.unwrap();
        assert_eq!(done.len(), 1);
    });
}

#[test]
fn a_zero_timeout_returns_at_once() {
    let lp = event_loop(1, "wait-timeout-zero");
    lp.run_until_complete(async {
        let stuck = evloop::spawn(std::future::pending::<()>());
        let (done, pending) = wait([stuck], ReturnWhen::AllCompleted, Some(Duration::ZERO))
            .await
            .unwrap();
        assert!(done.is_empty());
        assert!(pending[0].cancel(), "still running");
    });
}
