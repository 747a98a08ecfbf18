//! Prints the booking process graph (Mermaid), as shown in the README:
//! `cargo run -p booking --example graph`.

use pm_core::ProcessManager;

fn main() {
    print!(
        "{}",
        pm_core::mermaid(booking::BookingProcess::descriptor())
    );
}
