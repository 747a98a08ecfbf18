// The README's example, corrected: every event handled, every command declared.
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

    #[on(OrderEvent::Paid, sends(NotifyShop))]
    fn paid(&mut self, cx: &mut Context<Self>) {
        cx.send(NotifyShop { order: cx.id().clone() });
        cx.complete();
    }

    #[on(OrderEvent::Cancelled)]
    fn cancelled(&mut self, cx: &mut Context<Self>) {
        cx.complete();
    }

    #[timeout(OrderTimeout::Reminder, sends(SendReminder))]
    fn remind(&mut self, cx: &mut Context<Self>) {
        self.reminders += 1;
        cx.send(SendReminder { order: cx.id().clone() });
    }
}

fn main() {
    pm_core::testing::Scenario::<Order>::new("order-1".to_owned())
        .given(OrderEvent::Placed)
        .when(OrderEvent::Paid)
        .then_sends([NotifyShop { order: "order-1".into() }.into()])
        .then_completed()
        .advance(Duration::from_secs(25 * 3600))
        .then_sends_nothing();
}
