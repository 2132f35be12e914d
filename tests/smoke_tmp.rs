use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn many_tasks() {
    let lp = evloop::EventLoop::builder().worker_threads(2).build().unwrap();
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let r = lp.run_until_complete(async move {
        let mut v = Vec::new();
        for i in 0..100_000u64 {
            let n = n2.clone();
            v.push(evloop::spawn(async move { n.fetch_add(1, Ordering::Relaxed); i }));
        }
        let mut s = 0;
        for t in v { s += t.await.unwrap(); }
        s
    });
    assert_eq!(r, (0..100_000u64).sum());
    assert_eq!(n.load(Ordering::Relaxed), 100_000);
    lp.close();
}

#[test]
fn yields_and_panics() {
    evloop::run(async {
        let t = evloop::spawn(async { for _ in 0..1000 { evloop::yield_now().await; } 5 });
        let p = evloop::spawn(async { panic!("boom") });
        assert_eq!(t.await.unwrap(), 5);
        let e: evloop::TaskError = p.await.unwrap_err();
        assert!(e.is_panic());
        assert_eq!(e.panic_message(), Some("boom"));
    });
}
