//! [`Wakers`]: tasks waiting for one kind of change (a cancel, a continue),
//! woken together when it happens.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Tasks waiting for a change, woken together by [`Wakers::wake_all`].
///
/// Waiting is by wake-up rather than by polling a timer: a held request goes
/// out the moment the run continues, and an idle run sets no timers (which is
/// also what lets a test's virtual clock tell "waiting" from "stuck").
#[derive(Default)]
pub(super) struct Wakers {
    next: Cell<u64>,
    // Keyed so a wait that is dropped (a sleep that won a race) takes its waker
    // back out instead of leaving it here until the next wake-up.
    waiting: RefCell<BTreeMap<u64, Waker>>,
}

impl Wakers {
    /// Wake every waiting task; each looks again at what it waits for.
    pub(super) fn wake_all(&self) {
        let waiting = std::mem::take(&mut *self.waiting.borrow_mut());
        for w in waiting.into_values() {
            w.wake();
        }
    }

    /// A future that is ready once `ready()` holds, looked at again on every
    /// [`Wakers::wake_all`].
    pub(super) fn until<F: Fn() -> bool + Unpin>(&self, ready: F) -> Until<'_, F> {
        Until {
            wakers: self,
            ready,
            key: None,
        }
    }

    fn park(&self, key: &mut Option<u64>, waker: &Waker) {
        let k = *key.get_or_insert_with(|| {
            let k = self.next.get();
            self.next.set(k + 1);
            k
        });
        let mut waiting = self.waiting.borrow_mut();
        match waiting.get_mut(&k) {
            Some(w) if w.will_wake(waker) => {}
            Some(w) => w.clone_from(waker),
            None => {
                waiting.insert(k, waker.clone());
            }
        }
    }

    fn unpark(&self, key: Option<u64>) {
        if let Some(k) = key {
            self.waiting.borrow_mut().remove(&k);
        }
    }
}

/// See [`Wakers::until`].
pub(super) struct Until<'a, F> {
    wakers: &'a Wakers,
    ready: F,
    key: Option<u64>,
}

impl<F: Fn() -> bool + Unpin> Future for Until<'_, F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if (this.ready)() {
            this.wakers.unpark(this.key.take());
            return Poll::Ready(());
        }
        this.wakers.park(&mut this.key, cx.waker());
        Poll::Pending
    }
}

impl<F> Drop for Until<'_, F> {
    fn drop(&mut self) {
        self.wakers.unpark(self.key.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn a_wait_ends_when_woken_with_its_condition_met_and_a_dropped_one_leaves_nothing() {
        let wakers = Wakers::default();
        let flag = Rc::new(Cell::new(false));
        let mut cx = Context::from_waker(Waker::noop());
        let seen = flag.clone();
        let mut wait = wakers.until(move || seen.get());
        assert!(Pin::new(&mut wait).poll(&mut cx).is_pending());
        // Polled again before any wake-up: still one waker, not two.
        assert!(Pin::new(&mut wait).poll(&mut cx).is_pending());
        assert_eq!(wakers.waiting.borrow().len(), 1);
        // Woken without the change: waits again.
        wakers.wake_all();
        assert!(Pin::new(&mut wait).poll(&mut cx).is_pending());
        flag.set(true);
        wakers.wake_all();
        assert!(Pin::new(&mut wait).poll(&mut cx).is_ready());
        let seen = flag.clone();
        flag.set(false);
        let mut dropped = wakers.until(move || seen.get());
        assert!(Pin::new(&mut dropped).poll(&mut cx).is_pending());
        drop(dropped);
        assert!(wakers.waiting.borrow().is_empty());
    }
}
