//! `TaskGroup` (CPython's test_asyncio `test_taskgroup` behaviours).

mod common;

use std::sync::{Arc, Barrier, mpsc};

use common::{DropCounter, event_loop, pending_with};
use evloop::{Promise, TaskGroup};

#[test]
fn join_waits_for_every_child_and_leaves_them_done() {
    let lp = event_loop(2, "group-join");
    lp.run_until_complete(async {
        let gates: Vec<Promise<u32>> = (0..3).map(|_| Promise::new()).collect();
        let group = TaskGroup::new();
        let children: Vec<_> = gates
            .iter()
            .map(|gate| {
                let gate = gate.clone();
                group.spawn(async move { gate.await.unwrap() }).unwrap()
            })
            .collect();
        let setter = evloop::spawn({
            let gates = gates.clone();
            async move {
                for (i, gate) in gates.iter().enumerate().rev() {
                    gate.set_result(i as u32).unwrap();
                    evloop::yield_now().await;
                }
            }
        });
        group.join().await.unwrap();
        assert!(
            children.iter().all(|child| child.done()),
            "join returns after every child is done"
        );
        let mut values = Vec::new();
        for child in children {
            values.push(child.await.unwrap());
        }
        assert_eq!(values, vec![0, 1, 2]);
        setter.await.unwrap();
    });
}

#[test]
fn an_empty_group_joins_at_once() {
    let lp = event_loop(1, "group-empty");
    assert!(lp.run_until_complete(TaskGroup::new().join()).is_ok());
}

#[test]
fn a_failing_child_cancels_its_siblings() {
    let lp = event_loop(2, "group-fail");
    let drops = DropCounter::new();
    lp.run_until_complete(async {
        let group = TaskGroup::new();
        let siblings: Vec<_> = (0..3)
            .map(|_| group.spawn(pending_with(drops.guard())).unwrap())
            .collect();
        let failing = group.spawn(async { panic!("child failed") }).unwrap();
        let error = group.join().await.unwrap_err();
        assert_eq!(error.failures().len(), 1);
        assert_eq!(error.failures()[0].panic_message(), Some("child failed"));
        assert_eq!(error.failures()[0].task_id(), Some(failing.id()));
        for sibling in siblings {
            assert!(sibling.await.unwrap_err().is_cancelled());
        }
    });
    assert_eq!(drops.count(), 3, "every sibling's future was dropped");
}

#[test]
fn join_reports_every_failure() {
    let lp = event_loop(2, "group-failures");
    let error = lp.run_until_complete(async {
        let group = TaskGroup::new();
        // Both children pass the barrier in the same poll, on two workers,
        // so both panic before the group's cancellation can reach them.
        let barrier = Arc::new(Barrier::new(2));
        for i in 0..2 {
            let barrier = barrier.clone();
            let _ = group.spawn(async move {
                barrier.wait();
                panic!("failure {i}");
            });
        }
        group.join().await.unwrap_err()
    });
    let mut messages: Vec<_> = error
        .failures()
        .iter()
        .map(|failure| failure.panic_message().unwrap().to_owned())
        .collect();
    messages.sort();
    assert_eq!(messages, vec!["failure 0", "failure 1"]);
    assert!(error.to_string().starts_with("2 tasks of the group failed"));
}

#[test]
fn the_failure_keeps_the_original_panic_payload() {
    let lp = event_loop(1, "group-payload");
    let error = lp.run_until_complete(async {
        let group = TaskGroup::new();
        let child = group
            .spawn(async { std::panic::panic_any(17_u32) })
            .unwrap();
        let error = group.join().await.unwrap_err();
        assert!(
            child.await.unwrap_err().is_panic(),
            "the child's task still reads panicked"
        );
        error
    });
    let payload = error.into_failures().remove(0).into_panic();
    assert_eq!(payload.downcast_ref::<u32>(), Some(&17));
}

#[test]
fn the_child_task_reports_its_panic_message() {
    let lp = event_loop(1, "group-child-message");
    lp.run_until_complete(async {
        let group = TaskGroup::new();
        let child = group.spawn(async { panic!("told twice") }).unwrap();
        let _ = group.join().await;
        assert_eq!(child.await.unwrap_err().panic_message(), Some("told twice"));
    });
}

#[test]
fn a_cancelled_child_is_not_a_failure() {
    let lp = event_loop(2, "group-child-cancel");
    lp.run_until_complete(async {
        let group = TaskGroup::new();
        let gate = Promise::new();
        let stuck = group.spawn(std::future::pending::<()>()).unwrap();
        let other = group
            .spawn({
                let gate = gate.clone();
                async move { gate.await.unwrap() }
            })
            .unwrap();
        assert!(stuck.cancel());
        gate.set_result("unaffected").unwrap();
        group.join().await.unwrap();
        assert_eq!(
            other.await.unwrap(),
            "unaffected",
            "siblings were not cancelled"
        );
    });
}

#[test]
fn spawning_into_an_aborting_group_is_refused() {
    let lp = event_loop(2, "group-aborting");
    lp.run_until_complete(async {
        let group = TaskGroup::new();
        let failing = group.spawn(async { panic!("abort") }).unwrap();
        let _ = failing.await;
        let drops = DropCounter::new();
        let refused = group.spawn(pending_with(drops.guard())).unwrap_err();
        assert!(!refused.is_finished());
        assert!(refused.to_string().contains("shutting down"));
        assert_eq!(drops.count(), 1, "the refused future is dropped unrun");
        assert!(group.join().await.is_err());
    });
}

#[test]
fn spawning_into_a_joined_group_is_refused() {
    let lp = event_loop(1, "group-finished");
    lp.run_until_complete(async {
        let group = TaskGroup::new();
        let spawner = group.spawner();
        group.join().await.unwrap();
        let refused = spawner.spawn(async {}).unwrap_err();
        assert!(refused.is_finished());
    });
}

#[test]
fn children_can_spawn_into_the_group_while_it_joins() {
    let lp = event_loop(2, "group-nested");
    let (tx, rx) = mpsc::channel();
    lp.run_until_complete(async {
        let group = TaskGroup::new();
        let spawner = group.spawner();
        let _ = group.spawn(async move {
            evloop::yield_now().await;
            let grandchild = spawner
                .spawn(async move {
                    evloop::yield_now().await;
                    tx.send("grandchild ran").unwrap();
                })
                .unwrap();
            drop(grandchild);
        });
        group.join().await.unwrap();
    });
    assert_eq!(
        rx.try_recv().unwrap(),
        "grandchild ran",
        "join waited for it"
    );
}

#[test]
fn dropping_the_group_cancels_its_children() {
    let lp = event_loop(2, "group-drop");
    let drops = DropCounter::new();
    lp.run_until_complete(async {
        let group = TaskGroup::new();
        let children: Vec<_> = (0..2)
            .map(|_| group.spawn(pending_with(drops.guard())).unwrap())
            .collect();
        drop(group);
        for child in children {
            assert!(child.await.unwrap_err().is_cancelled());
        }
    });
    assert_eq!(drops.count(), 2);
}

#[test]
fn cancelling_the_task_that_joins_cancels_the_children() {
    let lp = event_loop(2, "group-join-cancel");
    let drops = DropCounter::new();
    let (started_tx, started_rx) = mpsc::channel();
    let joiner = lp.handle().spawn({
        let drops = drops.clone();
        async move {
            let group = TaskGroup::new();
            let _ = group.spawn(pending_with(drops.guard()));
            started_tx.send(()).unwrap();
            group.join().await
        }
    });
    started_rx.recv().unwrap();
    joiner.cancel();
    lp.run_until_complete(async {
        assert!(joiner.await.unwrap_err().is_cancelled());
        while drops.count() < 1 {
            evloop::yield_now().await;
        }
    });
    assert_eq!(drops.count(), 1);
}

/// Holds a guard, and is slow to drop: a scope that returned before the
/// drop finished would see the count short.
struct SlowDrop(Option<common::DropGuard>);

impl Drop for SlowDrop {
    fn drop(&mut self) {
        std::thread::sleep(std::time::Duration::from_millis(20));
        drop(self.0.take());
    }
}

async fn pending_slow_drop(guard: common::DropGuard) {
    let _slow = SlowDrop(Some(guard));
    std::future::pending::<()>().await
}

#[test]
fn a_failing_child_interrupts_the_scope_body_at_its_next_await() {
    let lp = event_loop(2, "scope-interrupt");
    let body_drops = DropCounter::new();
    let started = std::time::Instant::now();
    let error = lp
        .run_until_complete(TaskGroup::scope({
            let body_drops = body_drops.clone();
            |group| async move {
                let _body = body_drops.guard();
                let _ = group.spawn(async { panic!("child failed") });
                evloop::sleep(std::time::Duration::from_secs(1)).await;
                unreachable!("the body is dropped at its sleep");
            }
        }))
        .unwrap_err();
    // asyncio stops the block in about 10 ms; the margin is generous.
    assert!(
        started.elapsed() < std::time::Duration::from_millis(500),
        "the body ran its full sleep: {:?}",
        started.elapsed()
    );
    assert_eq!(body_drops.count(), 1, "the body's destructors ran");
    assert_eq!(error.failures().len(), 1);
    assert_eq!(error.failures()[0].panic_message(), Some("child failed"));
}

#[test]
fn the_scope_returns_the_body_value_once_every_child_is_done() {
    let lp = event_loop(2, "scope-value");
    let (tx, rx) = mpsc::channel();
    let value = lp
        .run_until_complete(TaskGroup::scope(|group| async move {
            let _ = group.spawn(async move {
                evloop::sleep(std::time::Duration::from_millis(5)).await;
                tx.send("child ran").unwrap();
            });
            // The body ends first; the scope waits for the child.
            42
        }))
        .unwrap();
    assert_eq!(value, 42);
    assert_eq!(rx.try_recv().unwrap(), "child ran");
}

#[test]
fn the_scope_returns_only_after_every_child_future_was_dropped() {
    let lp = event_loop(2, "scope-drops");
    for fail in [false, true] {
        let drops = DropCounter::new();
        let outcome = lp.run_until_complete(TaskGroup::scope({
            let drops = drops.clone();
            |group| async move {
                for _ in 0..4 {
                    let guard = drops.guard();
                    let _ = group.spawn(async move {
                        let _slow = SlowDrop(Some(guard));
                        if fail {
                            std::future::pending::<()>().await;
                        }
                        evloop::sleep(std::time::Duration::from_millis(5)).await;
                    });
                }
                if fail {
                    let _ = group.spawn(async { panic!("boom") });
                }
            }
        }));
        assert_eq!(outcome.is_err(), fail);
        assert_eq!(
            drops.count(),
            4,
            "every child future was dropped (fail: {fail})"
        );
    }
}

#[test]
fn a_child_failure_drops_a_nested_scope_in_the_body() {
    let lp = event_loop(2, "scope-nested-body");
    let drops = DropCounter::new();
    let started = std::time::Instant::now();
    let error = lp
        .run_until_complete(TaskGroup::scope({
            let drops = drops.clone();
            |outer| async move {
                let (ready_tx, ready_rx) = mpsc::channel::<()>();
                let _ = outer.spawn(async move {
                    // Fail once the inner scope is running.
                    while ready_rx.try_recv().is_err() {
                        evloop::yield_now().await;
                    }
                    panic!("outer child failed");
                });
                TaskGroup::scope(|inner| async move {
                    let _ = inner.spawn(pending_with(drops.guard()));
                    ready_tx.send(()).unwrap();
                    evloop::sleep(std::time::Duration::from_secs(10)).await;
                })
                .await
                .unwrap();
            }
        }))
        .unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_millis(500));
    assert_eq!(error.failures().len(), 1);
    lp.run_until_complete(async {
        while drops.count() < 1 {
            evloop::yield_now().await;
        }
    });
}

#[test]
fn nested_scopes_in_children_report_their_failures_outward() {
    let lp = event_loop(2, "scope-nested-child");
    let error = lp
        .run_until_complete(TaskGroup::scope(|outer| async move {
            let sibling_drops = DropCounter::new();
            let _ = outer.spawn(pending_with(sibling_drops.guard()));
            let _ = outer.spawn(async {
                let inner = TaskGroup::scope(|inner| async move {
                    let _ = inner.spawn(std::future::pending::<()>());
                    let _ = inner.spawn(async { panic!("grandchild failed") });
                    std::future::pending::<()>().await;
                })
                .await;
                // The inner group's error fails this child in turn.
                panic!("{}", inner.unwrap_err());
            });
            std::future::pending::<()>().await;
        }))
        .unwrap_err();
    assert_eq!(error.failures().len(), 1);
    let message = error.failures()[0].panic_message().unwrap();
    assert!(message.contains("grandchild failed"), "{message}");
}

#[test]
fn nested_groups_join_after_a_failure() {
    let lp = event_loop(2, "group-nested-join");
    let outcome =
        lp.run_until_complete(evloop::timeout(std::time::Duration::from_secs(10), async {
            let outer = TaskGroup::new();
            let _ = outer.spawn(async {
                let inner = TaskGroup::new();
                let _ = inner.spawn(std::future::pending::<()>());
                let _ = inner.spawn(async { panic!("inner child failed") });
                if let Err(error) = inner.join().await {
                    panic!("{error}");
                }
            });
            let _ = outer.spawn(std::future::pending::<()>());
            outer.join().await
        }));
    let error = outcome.expect("the nested joins do not hang").unwrap_err();
    assert_eq!(error.failures().len(), 1);
}

#[test]
fn a_panicking_body_cancels_the_children_then_resumes_its_panic() {
    let lp = event_loop(2, "scope-body-panic");
    let drops = DropCounter::new();
    let task = lp.handle().spawn(TaskGroup::scope({
        let drops = drops.clone();
        |group| async move {
            let _ = group.spawn(pending_slow_drop(drops.guard()));
            evloop::yield_now().await;
            panic!("the body failed");
        }
    }));
    let error = lp.run_until_complete(task).unwrap_err();
    assert_eq!(error.panic_message(), Some("the body failed"));
    assert_eq!(
        drops.count(),
        1,
        "the child was dropped before the panic went on"
    );
}

#[test]
fn children_can_be_named() {
    let lp = event_loop(2, "group-names");
    let names = lp
        .run_until_complete(TaskGroup::scope(|group| async move {
            let named = group.spawn_named("fetch-1", async {}).unwrap();
            let unnamed = group.spawn(async {}).unwrap();
            (named.name().into_owned(), unnamed.name().into_owned())
        }))
        .unwrap();
    assert_eq!(names.0, "fetch-1");
    assert!(names.1.starts_with("Task-"), "{}", names.1);
    lp.run_until_complete(async {
        let group = TaskGroup::new();
        let child = group.spawn_named("direct", async {}).unwrap();
        assert_eq!(child.name(), "direct");
        group.join().await.unwrap();
    });
}
