//! The random generators sealing takes: `hpke`'s own `rand_core` (0.9)
//! traits, and the operating system's generator.

pub use hpke::rand_core::{CryptoRng, RngCore};
use rand_core_09::{OsRng, UnwrapErr};

/// The operating system's generator (getrandom); panics only if the OS
/// cannot give randomness at all, as `rand`'s `thread_rng` does.
pub fn os() -> UnwrapErr<OsRng> {
    UnwrapErr(OsRng)
}
