// The README's example with two mistakes: `OrderEvent::Cancelled` lost its
// handler, and `paid` sends a command it does not declare.
use pm_core::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
enum OrderEvent { Placed, Paid, Cancelled }

#[derive(Debug, Clone, Copy, PartialEq, Timeout)]
enum OrderTimeout { Reminder }

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SendReminder { order: String }

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct NotifyShop { order: String }

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Order { reminders: u32 }

#[process_manager(name = "order", id = String, subscribe(OrderEvent), timeouts(OrderTimeout))]
impl Order {
    #[on(OrderEvent::Placed, start)]
    fn placed(&mut self, cx: &mut Context<Self>) {
        cx.schedule(OrderTimeout::Reminder, Duration::from_secs(24 * 3600));
    }

    #[on(OrderEvent::Paid)]
    fn paid(&mut self, cx: &mut Context<Self>) {
        cx.send(NotifyShop { order: cx.id().clone() });
        cx.complete();
    }

    #[timeout(OrderTimeout::Reminder, sends(SendReminder))]
    fn remind(&mut self, cx: &mut Context<Self>) {
        self.reminders += 1;
        cx.send(SendReminder { order: cx.id().clone() });
    }
}

fn main() {}
