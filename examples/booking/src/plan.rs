//! [`Plan`]: what each simulated booking will do, drawn from the seed and the
//! booking's number alone, so every run with one seed behaves the same and
//! a redelivered command meets the same decision.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::id::BookingId;

/// Percent of bookings whose tickets are unavailable.
const UNAVAILABLE_PERCENT: u32 = 10;
/// Percent of confirmed bookings whose customer never pays.
const NEVER_PAYS_PERCENT: u32 = 15;
/// Percent of confirmed bookings whose customer pays after one failed attempt.
const PAYS_AFTER_FAILURE_PERCENT: u32 = 10;

/// How a customer pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Payer {
    /// Pays as soon as asked.
    AtOnce,
    /// A first attempt fails, the second goes through.
    AfterFailure,
    /// Never pays; the booking expires.
    Never,
}

/// The fate of one booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingPlan {
    /// Seats asked for (1 to 4).
    pub seats: u32,
    /// Whether the seats can be reserved.
    pub tickets_available: bool,
    /// The price of the seats, in cents.
    pub price: u64,
    /// How the customer pays.
    pub payer: Payer,
}

/// What the booking is expected to end as, if everything works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ending {
    /// Paid and settled.
    Settled,
    /// No tickets.
    Denied,
    /// Not paid in time.
    Expired,
}

impl BookingPlan {
    /// How the booking should end.
    pub fn ending(&self) -> Ending {
        match (self.tickets_available, self.payer) {
            (false, _) => Ending::Denied,
            (true, Payer::Never) => Ending::Expired,
            (true, Payer::AtOnce | Payer::AfterFailure) => Ending::Settled,
        }
    }
}

/// The seed-determined decisions of the simulated services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    seed: u64,
    lost_reply_percent: u32,
}

impl Plan {
    /// A plan from `seed`, in which `lost_reply_percent` of the commands that
    /// change something have their first reply lost (so they are delivered
    /// again and must be absorbed as duplicates).
    pub fn new(seed: u64, lost_reply_percent: u32) -> Self {
        Self {
            seed,
            lost_reply_percent: lost_reply_percent.min(100),
        }
    }

    /// The fate of booking `id`.
    pub fn booking(&self, id: BookingId) -> BookingPlan {
        let mut rng = StdRng::seed_from_u64(mix(self.seed, id.number()));
        let seats = rng.gen_range(1..=4u32);
        let cents_per_seat = rng.gen_range(20..=120u64) * 100 + rng.gen_range(0..4u64) * 25;
        let tickets_available = rng.gen_range(0..100u32) >= UNAVAILABLE_PERCENT;
        let payer = match rng.gen_range(0..100u32) {
            roll if roll < NEVER_PAYS_PERCENT => Payer::Never,
            roll if roll < NEVER_PAYS_PERCENT + PAYS_AFTER_FAILURE_PERCENT => Payer::AfterFailure,
            _ => Payer::AtOnce,
        };
        BookingPlan {
            seats,
            tickets_available,
            price: u64::from(seats) * cents_per_seat,
            payer,
        }
    }

    /// Whether the first reply to `command_type` for booking `id` is lost.
    pub fn loses_first_reply(&self, id: BookingId, command_type: &str) -> bool {
        let roll = mix(self.seed ^ fnv1a(command_type.as_bytes()), id.number()) % 100;
        roll < u64::from(self.lost_reply_percent)
    }
}

/// Mixes two numbers into a well-spread one (SplitMix64 finalizer).
fn mix(seed: u64, value: u64) -> u64 {
    let mut z = seed
        .wrapping_add(value.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stable hash of a name (FNV-1a), unlike `std`'s randomly keyed hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::{Ending, Plan};
    use crate::id::BookingId;

    #[test]
    fn one_seed_gives_one_plan() {
        let (a, b) = (Plan::new(7, 5), Plan::new(7, 5));
        for n in 0..100 {
            assert_eq!(a.booking(BookingId(n)), b.booking(BookingId(n)));
            assert_eq!(
                a.loses_first_reply(BookingId(n), "ConfirmBooking"),
                b.loses_first_reply(BookingId(n), "ConfirmBooking")
            );
        }
    }

    #[test]
    fn outcomes_come_in_roughly_the_intended_shares() {
        let plan = Plan::new(42, 0);
        let endings: Vec<Ending> = (0..10_000)
            .map(|n| plan.booking(BookingId(n)).ending())
            .collect();
        let share = |ending| endings.iter().filter(|e| **e == ending).count();
        // 10% denied; 15% of the other 90% expire (13.5%).
        assert!((800..1200).contains(&share(Ending::Denied)));
        assert!((1150..1550).contains(&share(Ending::Expired)));
        assert!(!(0..10_000).any(|n| plan.loses_first_reply(BookingId(n), "SettleBooking")));
    }
}
