//! A virtual-time world for the job runner on the host: [`Sim`] runs tasks on
//! one thread and moves its clock only when every task waits on a timer, and
//! [`ScriptedClient`](client::ScriptedClient) answers chat requests as a test
//! scripts them. Nothing here reads the wall clock, so a run's timing is
//! exact and the same on every machine.

pub mod client;

use fannotate::services::runner::Runtime;
use futures::executor::{LocalPool, LocalSpawner};
use futures::future::LocalBoxFuture;
use futures::task::LocalSpawnExt;
use std::cell::{Cell, RefCell};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

/// What [`Runtime::now_ms`] reads at virtual time 0 (some day in 2025).
pub const EPOCH_MS: f64 = 1.75e12;

/// A run that is still going after this much virtual time never ends: the
/// test fails instead of spinning (a paused run ticks its progress forever).
const LIMIT_MS: f64 = 3_600_000.0;

/// The runtime a run sees: the virtual clock, its timers, the pool's spawner
/// and a fixed "random" number.
pub struct SimRuntime {
    now: Cell<f64>,
    seq: Cell<u64>,
    timers: RefCell<BinaryHeap<Timer>>,
    spawner: LocalSpawner,
    random: Cell<f64>,
}

/// One pending sleep; the heap holds it weakly so a dropped sleep (one that
/// lost a race) neither fires nor moves the clock.
struct Timer {
    due: f64,
    seq: u64,
    state: Weak<TimerState>,
}

#[derive(Default)]
struct TimerState {
    fired: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

// Earliest first, and among equals the first set (as browsers run timeouts).
impl Ord for Timer {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .due
            .total_cmp(&self.due)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}
impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Timer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Timer {}

struct Sleep(Rc<TimerState>);

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.fired.get() {
            Poll::Ready(())
        } else {
            *self.0.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

impl SimRuntime {
    /// Make `random()` answer `r` from now on (0 unless set).
    pub fn set_random(&self, r: f64) {
        self.random.set(r);
    }

    /// Fire the earliest live timer, moving the clock to it; `false` when none is set.
    fn advance(&self) -> bool {
        loop {
            let Some(t) = self.timers.borrow_mut().pop() else {
                return false;
            };
            if let Some(state) = t.state.upgrade() {
                self.now.set(self.now.get().max(t.due));
                state.fired.set(true);
                if let Some(w) = state.waker.borrow_mut().take() {
                    w.wake();
                }
                return true;
            }
        }
    }
}

impl Runtime for SimRuntime {
    fn mono_ms(&self) -> f64 {
        self.now.get()
    }

    fn now_ms(&self) -> f64 {
        EPOCH_MS + self.now.get()
    }

    fn sleep(&self, ms: f64) -> LocalBoxFuture<'static, ()> {
        let state = Rc::new(TimerState::default());
        let seq = self.seq.get();
        self.seq.set(seq + 1);
        self.timers.borrow_mut().push(Timer {
            due: self.now.get() + ms.max(0.0),
            seq,
            state: Rc::downgrade(&state),
        });
        Box::pin(Sleep(state))
    }

    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        self.spawner
            .spawn_local(task)
            .expect("the pool outlives its runs");
    }

    fn random(&self) -> f64 {
        self.random.get()
    }
}

/// Runs futures in virtual time: every task runs until it waits, then the
/// clock jumps to the next timer, and so on until the future given is done.
pub struct Sim {
    pool: RefCell<LocalPool>,
    /// The runtime to hand a run (as `Rc<dyn Runtime>`) and test doubles.
    pub rt: Rc<SimRuntime>,
}

impl Default for Sim {
    fn default() -> Self {
        let pool = LocalPool::new();
        let rt = Rc::new(SimRuntime {
            now: Cell::new(0.0),
            seq: Cell::new(0),
            timers: RefCell::new(BinaryHeap::new()),
            spawner: pool.spawner(),
            random: Cell::new(0.0),
        });
        Sim {
            pool: RefCell::new(pool),
            rt,
        }
    }
}

impl Sim {
    /// Virtual milliseconds since the start.
    pub fn now(&self) -> f64 {
        self.rt.now.get()
    }

    /// Run `f` once the clock reads `at_ms` (virtual), alongside what runs then.
    pub fn at(&self, at_ms: f64, f: impl FnOnce() + 'static) {
        let rt = self.rt.clone();
        self.rt.spawn(Box::pin(async move {
            rt.sleep(at_ms - rt.mono_ms()).await;
            f();
        }));
    }

    /// Drive `fut` and everything it spawns to its end. Panics when nothing can
    /// run and no timer is set (the future would never finish), or when the
    /// clock passes an hour.
    pub fn run<T: 'static>(&self, fut: impl Future<Output = T> + 'static) -> T {
        let out = Rc::new(RefCell::new(None));
        let slot = out.clone();
        self.rt.spawn(Box::pin(async move {
            *slot.borrow_mut() = Some(fut.await);
        }));
        loop {
            self.pool.borrow_mut().run_until_stalled();
            if let Some(v) = out.borrow_mut().take() {
                return v;
            }
            assert!(
                self.rt.advance(),
                "stuck at {} ms: no task can go on and no timer is set",
                self.now()
            );
            assert!(
                self.now() <= LIMIT_MS,
                "still running after {LIMIT_MS} virtual ms"
            );
        }
    }
}
