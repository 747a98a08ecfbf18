//! How a process's instances are spread over partitions, the unit that
//! workers own.
//!
//! The rule is part of the stored format (the Postgres backend evaluates it
//! in SQL, and partition checkpoints depend on it): an instance's partition
//! key is the first four bytes of the MD5 digest of its id (as stored, the
//! UTF-8 of the id's `Display`), read as a big-endian `u32`; its partition is
//! that key modulo the process's partition count. In SQL:
//! `mod(('x' || substr(md5(instance_id), 1, 8))::bit(32)::bigint, count)`.
//! MD5 serves only as a well-spread, stable function here, not for security.

use md5::{Digest, Md5};

/// The partition key of an instance id.
pub fn partition_key(instance_id: &str) -> u32 {
    let digest = Md5::digest(instance_id.as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// The partition of an instance id among `count` partitions (`count` of 0
/// is treated as 1).
pub fn partition_of(instance_id: &str, count: u32) -> u32 {
    partition_key(instance_id) % count.max(1)
}

#[cfg(test)]
mod tests {
    use super::{partition_key, partition_of};

    /// Pinned values: changing them would move stored instances to other
    /// partitions than the ones whose checkpoints cover them.
    #[test]
    fn partition_keys_are_pinned() {
        // md5("") = d41d8cd9.., md5("a") = 0cc175b9.., md5("booking-1") = 40fc0bf8..
        assert_eq!(partition_key(""), 0xd41d_8cd9);
        assert_eq!(partition_key("a"), 0x0cc1_75b9);
        assert_eq!(partition_key("booking-1"), 0x40fc_0bf8);
        assert_eq!(partition_of("a", 16), 0x0cc1_75b9 % 16);
        assert_eq!(partition_of("a", 0), 0);
    }
}
