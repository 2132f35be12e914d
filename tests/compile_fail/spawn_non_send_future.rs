//! A future holding an `Rc` across an `.await` cannot be spawned: a worker
//! thread other than the spawning one may poll it.

use std::rc::Rc;

fn main() {
    let lp = evloop::EventLoop::new().unwrap();
    let shared = Rc::new(1);
    let _task = lp.handle().spawn(async move {
        evloop::yield_now().await;
        *shared
    });
}
