//! `as_completed` (CPython's test_asyncio `test_as_completed*` behaviours).

mod common;

use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use common::event_loop;
use evloop::{Promise, Task, as_completed};
use futures_core::Stream;

/// A task that returns `value` once `gate` is set.
fn gated<T: Clone + Send + 'static>(gate: &Promise<T>) -> Task<T> {
    let gate = gate.clone();
    evloop::spawn(async move { gate.await.unwrap() })
}

#[test]
fn results_come_in_completion_order() {
    let lp = event_loop(2, "ascomp-order");
    lp.run_until_complete(async {
        let gates: Vec<Promise<&'static str>> = (0..3).map(|_| Promise::new()).collect();
        let mut results = as_completed(gates.iter().map(gated), None);
        assert_eq!(results.len(), 3);
        for (i, word) in [(2, "c"), (0, "a"), (1, "b")] {
            gates[i].set_result(word).unwrap();
            assert_eq!(results.next().await.unwrap().unwrap(), word);
        }
        assert!(results.next().await.is_none());
        assert!(results.is_empty());
    });
}

#[test]
fn a_failed_task_yields_its_error_and_the_rest_follow() {
    let lp = event_loop(2, "ascomp-fail");
    lp.run_until_complete(async {
        let gate = Promise::new();
        let failing = evloop::spawn(async { panic!("failed first") });
        let mut results = as_completed([gated(&gate), failing], None);
        let error = results.next().await.unwrap().unwrap_err();
        assert!(!error.is_timeout());
        assert_eq!(
            error.into_task_error().unwrap().panic_message(),
            Some("failed first")
        );
        gate.set_result(1).unwrap();
        assert_eq!(results.next().await.unwrap().unwrap(), 1);
    });
}

#[test]
fn an_empty_input_ends_at_once() {
    let lp = event_loop(1, "ascomp-empty");
    lp.run_until_complete(async {
        let mut results = as_completed(Vec::<Task<()>>::new(), None);
        assert!(results.next().await.is_none());
    });
}

#[test]
fn it_is_a_futures_core_stream() {
    let lp = event_loop(2, "ascomp-stream");
    lp.run_until_complete(async {
        let mut results = as_completed((0..4).map(|i| evloop::spawn(async move { i })), None);
        assert_eq!(results.size_hint(), (4, Some(4)));
        let mut seen = Vec::new();
        while let Some(item) = std::future::poll_fn(|cx| Pin::new(&mut results).poll_next(cx)).await
        {
            seen.push(item.unwrap());
        }
        seen.sort_unstable();
        assert_eq!(seen, vec![0, 1, 2, 3]);
        let after_end = std::future::poll_fn(|cx| match Pin::new(&mut results).poll_next(cx) {
            Poll::Ready(item) => Poll::Ready(item.is_none()),
            Poll::Pending => Poll::Ready(false),
        });
        assert!(after_end.await, "a finished stream stays finished");
    });
}

#[test]
fn the_remaining_tasks_can_be_taken_back() {
    let lp = event_loop(2, "ascomp-remaining");
    lp.run_until_complete(async {
        let gates: Vec<Promise<u8>> = (0..3).map(|_| Promise::new()).collect();
        let mut results = as_completed(gates.iter().map(gated), None);
        gates[1].set_result(1).unwrap();
        assert_eq!(results.next().await.unwrap().unwrap(), 1);
        let remaining = results.into_remaining();
        assert_eq!(remaining.len(), 2);
        assert!(remaining.iter().all(|t| !t.done()));
        gates[0].set_result(0).unwrap();
        gates[2].set_result(2).unwrap();
        let mut values = Vec::new();
        for task in remaining {
            values.push(task.await.unwrap());
        }
        assert_eq!(values, vec![0, 2]);
    });
}

#[test]
fn after_the_timeout_each_remaining_step_yields_a_timeout_and_nothing_is_cancelled() {
    let lp = event_loop(2, "ascomp-timeout");
    lp.run_until_complete(async {
        let quick = evloop::spawn(async { "quick" });
        let stuck: Vec<_> = (0..2)
            .map(|_| evloop::spawn(std::future::pending::<&'static str>()))
            .collect();
        let mut tasks = stuck;
        tasks.insert(1, quick);
        let mut results = as_completed(tasks, Some(Duration::from_millis(20)));
        assert_eq!(results.next().await.unwrap().unwrap(), "quick");
        for _ in 0..2 {
            let error = results.next().await.unwrap().unwrap_err();
            assert!(error.is_timeout());
        }
        assert!(results.next().await.is_none());
        let remaining = results.into_remaining();
        assert_eq!(remaining.len(), 2);
        for task in &remaining {
            assert!(!task.done(), "the timeout cancelled nothing");
            task.cancel();
        }
    });
}

#[test]
fn a_step_taken_after_the_deadline_yields_a_timeout_at_once() {
    let lp = event_loop(2, "ascomp-timeout-late");
    lp.run_until_complete(async {
        let stuck = evloop::spawn(std::future::pending::<()>());
        let mut results = as_completed([stuck], Some(Duration::from_millis(10)));
        evloop::sleep(Duration::from_millis(20)).await;
        let start = Instant::now();
        assert!(results.next().await.unwrap().unwrap_err().is_timeout());
        assert!(start.elapsed() < Duration::from_secs(5));
        results.into_remaining()[0].cancel();
    });
}
