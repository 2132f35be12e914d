//! One switch between the standard library's concurrency primitives and loom's.
//!
//! Every atomic, lock, `Arc`, thread and `UnsafeCell` that takes part in a
//! cross-thread handoff is imported from here, so that building with
//! `RUSTFLAGS="--cfg loom"` lets the loom model checker see (and permute) every
//! one of them. Constants that size queues and shards shrink under loom to keep
//! the models small.

#[cfg(loom)]
#[allow(unused_imports)]
mod imp {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::atomic::{
        AtomicBool, AtomicPtr, AtomicU8, AtomicU64, AtomicUsize, Ordering, fence,
    };
    pub(crate) use loom::sync::{Arc, Condvar, Mutex, MutexGuard};
    pub(crate) use loom::thread;

    /// Whether the code is being model-checked (constants shrink).
    pub(crate) const LOOM: bool = true;
}

#[cfg(not(loom))]
#[allow(unused_imports)]
mod imp {
    pub(crate) use std::sync::atomic::{
        AtomicBool, AtomicPtr, AtomicU8, AtomicU64, AtomicUsize, Ordering, fence,
    };
    pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard};
    pub(crate) use std::thread;

    /// Whether the code is being model-checked (constants shrink).
    pub(crate) const LOOM: bool = false;

    /// `std::cell::UnsafeCell` with loom's closure-based access API, so the
    /// same code compiles against both.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(std::cell::UnsafeCell::new(value))
        }

        /// Gives `f` a shared raw pointer to the contents.
        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Gives `f` a mutable raw pointer to the contents.
        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

#[allow(unused_imports)]
pub(crate) use imp::*;

/// Declares thread-locals with a `const` initialiser: std's `thread_local!`
/// normally, loom's (which models one per loom thread, and takes a plain
/// expression) under `cfg(loom)`.
#[cfg(not(loom))]
macro_rules! thread_local_const {
    ($($(#[$attr:meta])* static $name:ident: $t:ty = $init:expr;)+) => {
        std::thread_local! {
            $($(#[$attr])* static $name: $t = const { $init };)+
        }
    };
}

/// Declares thread-locals with a `const` initialiser: std's `thread_local!`
/// normally, loom's (which models one per loom thread, and takes a plain
/// expression) under `cfg(loom)`.
#[cfg(loom)]
macro_rules! thread_local_const {
    ($($(#[$attr:meta])* static $name:ident: $t:ty = $init:expr;)+) => {
        loom::thread_local! {
            $($(#[$attr])* static $name: $t = $init;)+
        }
    };
}

pub(crate) use thread_local_const;
