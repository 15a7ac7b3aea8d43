//! Time, injected: the engine reads no clock of its own.

/// The time, injected: seconds since the Unix epoch.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> u64;
}

/// The system clock.
///
/// wasm32-unknown-unknown has no system clock (`std::time::SystemTime`
/// panics there): with the feature `wasm-js` this reads the JavaScript
/// host's `Date.now()`; without it, it says 0 (1970), which
/// [`ClientBuilder::build`](crate::ClientBuilder::build) refuses: pass the
/// host's time through [`ClientBuilder::clock`](crate::ClientBuilder::clock)
/// (and `ObserverOptions::clock`).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[cfg(not(all(target_family = "wasm", target_os = "unknown")))]
    fn now(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    #[cfg(all(target_family = "wasm", target_os = "unknown", feature = "wasm-js"))]
    fn now(&self) -> u64 {
        // Milliseconds as an f64; `as` saturates, and a NaN is 0.
        (js_sys::Date::now() / 1000.0) as u64
    }

    #[cfg(all(
        target_family = "wasm",
        target_os = "unknown",
        not(feature = "wasm-js")
    ))]
    fn now(&self) -> u64 {
        0
    }
}

/// A clock that always says the same time (tests, replays).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub u64);

impl Clock for FixedClock {
    fn now(&self) -> u64 {
        self.0
    }
}
