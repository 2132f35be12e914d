//! `gather`, `gather_settled` and `gather!` (CPython's test_asyncio
//! `GatherTests` and `test_gather*` behaviours).

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Barrier};

use common::{DropCounter, event_loop, pending_with};
use evloop::{Promise, gather, gather_settled};

type BoxedFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A future that resolves to `value` once `gate` is set.
fn gated<T: Send + 'static>(gate: &Promise<()>, value: T) -> BoxedFuture<T> {
    let gate = gate.clone();
    Box::pin(async move {
        gate.await.unwrap();
        value
    })
}

#[test]
fn results_follow_input_order_not_completion_order() {
    let lp = event_loop(2, "gather-order");
    let gates: Vec<Promise<()>> = (0..4).map(|_| Promise::new()).collect();
    let (done_tx, done_rx) = mpsc::channel();
    let results = lp.run_until_complete(async {
        let all = gather(gates.iter().enumerate().map(|(i, gate)| {
            let gate = gate.clone();
            let done_tx = done_tx.clone();
            async move {
                gate.await.unwrap();
                done_tx.send(i).unwrap();
                i * 10
            }
        }));
        // Release the children last to first, each after the previous one finished.
        for (i, gate) in gates.iter().enumerate().rev() {
            gate.set_result(()).unwrap();
            assert_eq!(done_rx.recv().unwrap(), i);
        }
        all.await
    });
    assert_eq!(results.unwrap(), vec![0, 10, 20, 30]);
}

#[test]
fn empty_input_resolves_to_an_empty_vec() {
    let lp = event_loop(1, "gather-empty");
    let results = lp.run_until_complete(gather(Vec::<BoxedFuture<u8>>::new()));
    assert_eq!(results.unwrap(), Vec::<u8>::new());
    let settled = lp.run_until_complete(gather_settled(Vec::<BoxedFuture<u8>>::new()));
    assert!(settled.is_empty());
}

#[test]
fn the_first_failure_is_returned_without_waiting_for_the_others() {
    let lp = event_loop(2, "gather-fail");
    let never = Promise::new();
    let error = lp.run_until_complete(async {
        let futures: Vec<BoxedFuture<u32>> = vec![
            gated(&never, 1),
            Box::pin(async { panic!("child failed") }),
            gated(&never, 3),
        ];
        gather(futures).await.unwrap_err()
    });
    assert!(error.is_panic());
    assert_eq!(error.panic_message(), Some("child failed"));
    assert!(
        error.task_name().is_some(),
        "the error names the child task"
    );
}

#[test]
fn the_first_failure_cancels_the_children_still_running() {
    let lp = event_loop(2, "gather-fail-cancel");
    let drops = DropCounter::new();
    lp.run_until_complete(async {
        let futures: Vec<BoxedFuture<()>> = vec![
            Box::pin(pending_with(drops.guard())),
            Box::pin(pending_with(drops.guard())),
            Box::pin(async { panic!("boom") }),
        ];
        let error = gather(futures).await.unwrap_err();
        assert!(error.is_panic());
        // Cancellation drops the futures on the workers: wait for both
        // drops by letting the loop run, not by sleeping.
        while drops.count() < 2 {
            evloop::yield_now().await;
        }
    });
    assert_eq!(drops.count(), 2);
}

#[test]
fn dropping_the_gather_cancels_every_child() {
    let lp = event_loop(2, "gather-drop");
    let drops = DropCounter::new();
    let (started_tx, started_rx) = mpsc::channel();
    lp.run_until_complete(async {
        let all = gather((0..3).map(|_| {
            let guard = drops.guard();
            let started_tx = started_tx.clone();
            async move {
                let _guard = guard;
                started_tx.send(()).unwrap();
                std::future::pending::<()>().await;
            }
        }));
        for _ in 0..3 {
            started_rx.recv().unwrap();
        }
        drop(all);
        while drops.count() < 3 {
            evloop::yield_now().await;
        }
    });
    assert_eq!(drops.count(), 3);
}

#[test]
fn cancelling_the_task_that_awaits_a_gather_cancels_the_children() {
    let lp = event_loop(2, "gather-cancel-outer");
    let drops = DropCounter::new();
    let (started_tx, started_rx) = mpsc::channel();
    let outer = lp.handle().spawn({
        let drops = drops.clone();
        async move {
            gather((0..2).map(|_| {
                let guard = drops.guard();
                let started_tx = started_tx.clone();
                async move {
                    let _guard = guard;
                    started_tx.send(()).unwrap();
                    std::future::pending::<()>().await;
                }
            }))
            .await
        }
    });
    started_rx.recv().unwrap();
    started_rx.recv().unwrap();
    assert!(outer.cancel());
    let result = lp.run_until_complete(async {
        let result = outer.await;
        while drops.count() < 2 {
            evloop::yield_now().await;
        }
        result
    });
    assert!(result.unwrap_err().is_cancelled());
    assert_eq!(drops.count(), 2);
}

#[test]
fn a_cancelled_child_fails_the_gather_as_cancelled() {
    let lp = event_loop(2, "gather-child-cancel");
    let never = Promise::new();
    let error = lp.run_until_complete(async {
        let futures: Vec<BoxedFuture<()>> = vec![
            gated(&never, ()),
            Box::pin(async {
                // The child cancels itself, as `asyncio.current_task().cancel()` would.
                evloop::current_task().unwrap().cancel();
                std::future::pending::<()>().await;
            }),
        ];
        gather(futures).await.unwrap_err()
    });
    assert!(error.is_cancelled());
}

#[test]
fn settled_results_hold_values_panics_and_cancels_in_input_order() {
    let lp = event_loop(2, "gather-settled");
    let outcomes = lp.run_until_complete(async {
        let futures: Vec<BoxedFuture<&'static str>> = vec![
            Box::pin(async { "first" }),
            Box::pin(async { panic!("second failed") }),
            Box::pin(async {
                evloop::current_task().unwrap().cancel();
                std::future::pending::<&'static str>().await
            }),
            Box::pin(async { "fourth" }),
        ];
        gather_settled(futures).await
    });
    assert_eq!(outcomes.len(), 4);
    assert_eq!(*outcomes[0].as_ref().unwrap(), "first");
    assert_eq!(
        outcomes[1].as_ref().unwrap_err().panic_message(),
        Some("second failed")
    );
    assert!(outcomes[2].as_ref().unwrap_err().is_cancelled());
    assert_eq!(*outcomes[3].as_ref().unwrap(), "fourth");
}

#[test]
fn settled_waits_for_every_child_after_a_failure() {
    let lp = event_loop(2, "gather-settled-wait");
    let gate = Promise::new();
    let outcomes = lp.run_until_complete(async {
        let futures: Vec<BoxedFuture<u8>> =
            vec![Box::pin(async { panic!("early") }), gated(&gate, 7)];
        let mut all = std::pin::pin!(gather_settled(futures));
        // Once the panicking child is gone only the gated one is live.
        while evloop::all_tasks().len() > 1 {
            evloop::yield_now().await;
        }
        let still_waiting =
            std::future::poll_fn(|cx| std::task::Poll::Ready(all.as_mut().poll(cx).is_pending()));
        assert!(
            still_waiting.await,
            "a failure does not end a settled gather"
        );
        gate.set_result(()).unwrap();
        all.await
    });
    assert!(outcomes[0].as_ref().unwrap_err().is_panic());
    assert_eq!(*outcomes[1].as_ref().unwrap(), 7);
}

#[test]
fn children_start_when_gather_is_called_inside_a_loop() {
    let lp = event_loop(2, "gather-eager");
    let (started_tx, started_rx) = mpsc::channel();
    lp.run_until_complete(async {
        let all = gather((0..2).map(|i| {
            let started_tx = started_tx.clone();
            async move {
                started_tx.send(i).unwrap();
                i
            }
        }));
        // Not awaited yet, but both children run.
        let mut started: Vec<i32> = (0..2).map(|_| started_rx.recv().unwrap()).collect();
        started.sort_unstable();
        assert_eq!(started, vec![0, 1]);
        assert_eq!(all.await.unwrap(), vec![0, 1]);
    });
}

#[test]
fn a_gather_built_outside_a_loop_starts_at_its_first_poll() {
    let all = gather((0..3).map(|i| async move { i + 1 }));
    let lp = event_loop(2, "gather-lazy");
    assert_eq!(lp.run_until_complete(all).unwrap(), vec![1, 2, 3]);
}

#[test]
fn children_run_in_parallel_on_several_workers() {
    let lp = event_loop(2, "gather-parallel");
    let barrier = Arc::new(Barrier::new(2));
    let results = lp.run_until_complete(gather((0..2).map(|i| {
        let barrier = barrier.clone();
        // Blocks its worker until the other child reaches the barrier on
        // the other worker: completes only if both run at the same time.
        async move {
            barrier.wait();
            i
        }
    })));
    assert_eq!(results.unwrap(), vec![0, 1]);
}

#[test]
fn the_macro_gathers_futures_of_different_types_into_a_tuple() {
    let lp = event_loop(2, "gather-macro");
    let gate = Promise::new();
    let (number, word, unit) = lp
        .run_until_complete(async {
            let all = evloop::gather!(gated(&gate, 1_u64), async { "two" }, async {});
            gate.set_result(()).unwrap();
            all.await
        })
        .unwrap();
    assert_eq!((number, word, unit), (1, "two", ()));
}

#[test]
fn the_macro_returns_the_first_failure_and_cancels_the_rest() {
    let lp = event_loop(2, "gather-macro-fail");
    let drops = DropCounter::new();
    let error = lp.run_until_complete(async {
        let result: Result<((), ()), _> = evloop::gather!(pending_with(drops.guard()), async {
            panic!("macro child failed");
        })
        .await;
        while drops.count() < 1 {
            evloop::yield_now().await;
        }
        result.unwrap_err()
    });
    assert_eq!(error.panic_message(), Some("macro child failed"));
    assert_eq!(drops.count(), 1);
}

#[test]
fn the_macro_accepts_a_trailing_comma_and_a_single_future() {
    let lp = event_loop(1, "gather-macro-one");
    let (only,) = lp
        .run_until_complete(evloop::gather!(async { 5 },))
        .unwrap();
    assert_eq!(only, 5);
}
