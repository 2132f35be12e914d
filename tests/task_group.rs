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
