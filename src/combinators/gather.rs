//! `gather`, `gather_settled` and `gather!`: run futures concurrently as
//! tasks and collect their results in input order.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use super::child::Child;
use super::completions::Completions;
use crate::runtime::Handle;
use crate::task::TaskError;

/// Runs every future of `futures` as its own task (so they use every worker)
/// and resolves to their values in input order (asyncio's `gather`).
///
/// - Empty input resolves to `Ok(vec![])`.
/// - The first failure of a child (a panic, or a cancellation) is returned
///   at once, as a [`TaskError`] naming the child's task; the children still
///   running are then cancelled.
/// - Dropping the `Gather` before it completes cancels every child still
///   running; so does cancelling the task that awaits it.
/// - A [`Task`](crate::Task) given as a future is awaited by its child:
///   cancelling the child drops that handle, which detaches the task (it
///   keeps running). Pass [`task.cancel_on_drop()`](crate::Task::cancel_on_drop)
///   to have it cancelled with its child, as asyncio does.
///
/// Called inside a loop, the children start at once, as asyncio's `gather`
/// starts its tasks when it is called; called outside (for example to build
/// the future given to [`run`](crate::run)), they start at its first poll.
///
/// Differences from asyncio: asyncio leaves the other children running after
/// the first error; here nobody could ever read their results, so they are
/// cancelled. The futures are always spawned: to gather tasks that are
/// already running, await them in turn or use [`wait`](crate::wait).
///
/// # Panics
///
/// Polling it outside an event loop, when it was created outside one too.
///
/// # Examples
///
/// ```
/// let squares = evloop::run(async {
///     evloop::gather((1..=4).map(|i| async move { i * i })).await
/// });
/// assert_eq!(squares.unwrap(), vec![1, 4, 9, 16]);
///
/// let failed = evloop::run(async {
///     let futures: Vec<std::pin::Pin<Box<dyn Future<Output = u8> + Send>>> =
///         vec![Box::pin(async { 1 }), Box::pin(async { panic!("no luck") })];
///     evloop::gather(futures).await
/// });
/// assert_eq!(failed.unwrap_err().panic_message(), Some("no luck"));
/// ```
pub fn gather<I>(futures: I) -> Gather<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
    <I::Item as IntoFuture>::IntoFuture: Send + 'static,
    <I::Item as IntoFuture>::Output: Send + 'static,
{
    Gather {
        engine: Engine::new(futures.into_iter().map(Child::new).collect()),
    }
}

/// Like [`gather`], but waits for every child and resolves to each one's
/// outcome, successes and failures alike, in input order (asyncio's
/// `gather(..., return_exceptions=True)`).
///
/// A failing child does not affect the others. Dropping the future before
/// it completes cancels the children still running.
///
/// # Panics
///
/// As [`gather`].
///
/// # Examples
///
/// ```
/// let outcomes = evloop::run(async {
///     evloop::gather_settled((0..3).map(|i| async move {
///         if i == 1 {
///             panic!("child {i} failed");
///         }
///         i
///     }))
///     .await
/// });
/// assert_eq!(*outcomes[0].as_ref().unwrap(), 0);
/// assert_eq!(outcomes[1].as_ref().unwrap_err().panic_message(), Some("child 1 failed"));
/// assert_eq!(*outcomes[2].as_ref().unwrap(), 2);
/// ```
pub fn gather_settled<I>(futures: I) -> GatherSettled<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
    <I::Item as IntoFuture>::IntoFuture: Send + 'static,
    <I::Item as IntoFuture>::Output: Send + 'static,
{
    GatherSettled {
        engine: Engine::new(futures.into_iter().map(Child::new).collect()),
    }
}

/// Runs futures of different types concurrently, each as its own task, and
/// resolves to a tuple of their values: `gather!(a, b, c)` gives
/// `Result<(A, B, C), TaskError>` (asyncio's `gather(a, b, c)`).
///
/// It behaves as [`gather`](crate::gather()): the first failure is returned
/// at once and cancels the other children, and dropping the future cancels
/// the children still running. It takes from 1 to 12 futures.
///
/// # Examples
///
/// ```
/// let (number, word) = evloop::run(async {
///     evloop::gather!(async { 6 * 7 }, async { "answer" }).await
/// })
/// .unwrap();
/// assert_eq!((number, word), (42, "answer"));
/// ```
#[macro_export]
macro_rules! gather {
    ($($future:expr),+ $(,)?) => {
        $crate::combinators::__private::GatherTuple::new((
            $($crate::combinators::__private::Child::new($future),)+
        ))
    };
}

/// The children of a gather: a `Vec` of one type, or a tuple of mixed types.
#[doc(hidden)]
pub trait Children {
    /// What the gather resolves to when every child succeeded.
    type Values;

    /// How many children there are.
    fn count(&self) -> usize;

    /// Spawns the children not started yet and watches every one.
    fn start(&mut self, handle: &Handle, completions: &Arc<Completions>);

    /// Collects the outcome of child `index`, which finished; with
    /// `fail_fast`, returns its error if it failed.
    fn settle(&mut self, index: usize, fail_fast: bool) -> Option<TaskError>;

    /// Cancels every child still running.
    fn cancel_running(&self);

    /// The values, once every child succeeded.
    fn take_values(&mut self) -> Self::Values;
}

impl<F> Children for Vec<Child<F>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    type Values = Vec<F::Output>;

    fn count(&self) -> usize {
        self.len()
    }

    fn start(&mut self, handle: &Handle, completions: &Arc<Completions>) {
        for (index, child) in self.iter_mut().enumerate() {
            child.start(handle, index, completions);
        }
    }

    fn settle(&mut self, index: usize, fail_fast: bool) -> Option<TaskError> {
        self[index].settle(fail_fast)
    }

    fn cancel_running(&self) {
        self.iter().for_each(Child::cancel);
    }

    fn take_values(&mut self) -> Vec<F::Output> {
        self.iter_mut().map(Child::take_value).collect()
    }
}

macro_rules! children_for_tuple {
    ($($name:ident $index:tt),+) => {
        impl<$($name),+> Children for ($(Child<$name>,)+)
        where
            $($name: Future + Send + 'static, $name::Output: Send + 'static,)+
        {
            type Values = ($($name::Output,)+);

            fn count(&self) -> usize {
                [$($index),+].len()
            }

            fn start(&mut self, handle: &Handle, completions: &Arc<Completions>) {
                $(self.$index.start(handle, $index, completions);)+
            }

            fn settle(&mut self, index: usize, fail_fast: bool) -> Option<TaskError> {
                match index {
                    $($index => self.$index.settle(fail_fast),)+
                    _ => None,
                }
            }

            fn cancel_running(&self) {
                $(self.$index.cancel();)+
            }

            fn take_values(&mut self) -> Self::Values {
                ($(self.$index.take_value(),)+)
            }
        }
    };
}

children_for_tuple!(A 0);
children_for_tuple!(A 0, B 1);
children_for_tuple!(A 0, B 1, C 2);
children_for_tuple!(A 0, B 1, C 2, D 3);
children_for_tuple!(A 0, B 1, C 2, D 3, E 4);
children_for_tuple!(A 0, B 1, C 2, D 3, E 4, G 5);
children_for_tuple!(A 0, B 1, C 2, D 3, E 4, G 5, H 6);
children_for_tuple!(A 0, B 1, C 2, D 3, E 4, G 5, H 6, J 7);
children_for_tuple!(A 0, B 1, C 2, D 3, E 4, G 5, H 6, J 7, K 8);
children_for_tuple!(A 0, B 1, C 2, D 3, E 4, G 5, H 6, J 7, K 8, L 9);
children_for_tuple!(A 0, B 1, C 2, D 3, E 4, G 5, H 6, J 7, K 8, L 9, M 10);
children_for_tuple!(A 0, B 1, C 2, D 3, E 4, G 5, H 6, J 7, K 8, L 9, M 10, N 11);

/// What the gather futures share: start the children, then collect each
/// one as its completion is reported.
struct Engine<C> {
    children: C,
    completions: Arc<Completions>,
    started: bool,
    /// Children whose outcome was not collected yet.
    remaining: usize,
    /// Reused buffer for the reported indices.
    finished: Vec<usize>,
    /// The gather resolved; polling again is a bug of the caller.
    resolved: bool,
}

impl<C: Children> Engine<C> {
    fn new(children: C) -> Engine<C> {
        let mut engine = Engine {
            remaining: children.count(),
            children,
            completions: Completions::new(),
            started: false,
            finished: Vec::new(),
            resolved: false,
        };
        if let Some(handle) = Handle::try_current() {
            engine.start(&handle);
        }
        engine
    }

    fn start(&mut self, handle: &Handle) {
        self.children.start(handle, &self.completions);
        self.started = true;
    }

    /// Resolves once every child was collected, or at the first failure
    /// with `fail_fast` (after cancelling the others).
    fn poll_children(
        &mut self,
        cx: &mut Context<'_>,
        fail_fast: bool,
    ) -> Poll<Result<(), TaskError>> {
        assert!(
            !self.resolved,
            "a gather future was polled after it completed"
        );
        if !self.started {
            self.start(&Handle::current());
        }
        while self.remaining > 0 {
            ready!(self.completions.poll_finished(cx, &mut self.finished));
            for &index in &self.finished {
                self.remaining -= 1;
                if let Some(error) = self.children.settle(index, fail_fast) {
                    self.children.cancel_running();
                    self.resolved = true;
                    return Poll::Ready(Err(error));
                }
            }
            self.finished.clear();
        }
        self.resolved = true;
        Poll::Ready(Ok(()))
    }
}

impl<C: Children> fmt::Debug for Engine<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather")
            .field("children", &self.children.count())
            .field("remaining", &self.remaining)
            .finish()
    }
}

/// The future returned by [`gather`]: resolves to every value in input
/// order, or to the first failure. Dropping it cancels the children still
/// running.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let all: evloop::combinators::Gather<_> =
///         evloop::gather(['a', 'b'].map(|c| async move { c }));
///     assert_eq!(all.await.unwrap(), vec!['a', 'b']);
/// });
/// ```
#[must_use = "futures do nothing unless awaited; dropping a gather cancels its children"]
pub struct Gather<F: Future> {
    engine: Engine<Vec<Child<F>>>,
}

// The children's futures are moved into their tasks, never pinned here.
impl<F: Future> Unpin for Gather<F> {}

impl<F> Future for Gather<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    type Output = Result<Vec<F::Output>, TaskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let engine = &mut self.get_mut().engine;
        ready!(engine.poll_children(cx, true))?;
        Poll::Ready(Ok(engine.children.take_values()))
    }
}

impl<F> fmt::Debug for Gather<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.engine.fmt(f)
    }
}

/// The future returned by [`gather_settled`]: resolves to every outcome in
/// input order. Dropping it cancels the children still running.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let all: evloop::combinators::GatherSettled<_> = evloop::gather_settled([async { 1 }]);
///     assert_eq!(all.await[0].as_ref().unwrap(), &1);
/// });
/// ```
#[must_use = "futures do nothing unless awaited; dropping a gather cancels its children"]
pub struct GatherSettled<F: Future> {
    engine: Engine<Vec<Child<F>>>,
}

// The children's futures are moved into their tasks, never pinned here.
impl<F: Future> Unpin for GatherSettled<F> {}

impl<F> Future for GatherSettled<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    type Output = Vec<Result<F::Output, TaskError>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let engine = &mut self.get_mut().engine;
        // Without fail-fast no error comes back.
        let _ = ready!(engine.poll_children(cx, false));
        Poll::Ready(
            engine
                .children
                .iter_mut()
                .map(Child::take_outcome)
                .collect(),
        )
    }
}

impl<F> fmt::Debug for GatherSettled<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.engine.fmt(f)
    }
}

/// The future returned by [`gather!`](crate::gather!).
#[doc(hidden)]
#[must_use = "futures do nothing unless awaited; dropping a gather cancels its children"]
pub struct GatherTuple<C> {
    engine: Engine<C>,
}

// The children's futures are moved into their tasks, never pinned here.
impl<C> Unpin for GatherTuple<C> {}

impl<C: Children> GatherTuple<C> {
    /// A gather of the tuple of children `children`.
    pub fn new(children: C) -> GatherTuple<C> {
        GatherTuple {
            engine: Engine::new(children),
        }
    }
}

impl<C: Children> Future for GatherTuple<C> {
    type Output = Result<C::Values, TaskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let engine = &mut self.get_mut().engine;
        ready!(engine.poll_children(cx, true))?;
        Poll::Ready(Ok(engine.children.take_values()))
    }
}

impl<C: Children> fmt::Debug for GatherTuple<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.engine.fmt(f)
    }
}
