//! Time comes from a `Clock` in the application state so that tests move time instead of sleeping.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock, truncated to microseconds so values round-trip through both databases unchanged.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// The system clock shifted by an offset that tests can advance.
#[derive(Debug, Default, Clone)]
pub struct ShiftedClock {
    offset_micros: Arc<AtomicI64>,
}

impl ShiftedClock {
    pub fn advance(&self, by: TimeDelta) {
        let micros = by.num_microseconds().unwrap_or(i64::MAX);
        self.offset_micros.fetch_add(micros, Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        SystemClock.now() + TimeDelta::microseconds(self.offset_micros.load(Ordering::SeqCst))
    }
}
