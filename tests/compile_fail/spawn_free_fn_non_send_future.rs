//! `evloop::spawn` has the same bound as `Handle::spawn`.

use std::rc::Rc;

fn main() {
    evloop::run(async {
        let shared = Rc::new(1);
        let _task = evloop::spawn(async move {
            evloop::yield_now().await;
            *shared
        });
    });
}
