//! The order payment process converges: payment, timeout and cancellation
//! in any of the 6 orders end in the same outcome. The commands on the way
//! there depend on the order, by business rule.

use order_payment::*;
use pm_core::testing::{converges, converges_in_state, Input, Scenario};
use pm_core::InstanceStatus;

const ORDER: &str = "order-7";

fn placed_order() -> Scenario<OrderPayment> {
    Scenario::new(ORDER.to_owned()).given(OrderEvent::Placed(OrderPlaced { amount: 4200 }))
}

fn payment_received() -> Input {
    Input::from(PaymentEvent::Received(PaymentReceived {
        order_id: ORDER.to_owned(),
        amount: 4200,
    }))
    .on_stream("payment-1")
}

fn payment_timed_out() -> Input {
    Input::from(PaymentEvent::TimedOut(PaymentTimedOut {
        order_id: ORDER.to_owned(),
    }))
    .on_stream("payment-1")
}

fn order_cancelled() -> Input {
    Input::from(OrderEvent::Cancelled)
}

#[test]
fn payment_timeout_and_cancellation_converge_in_all_six_orders() {
    let outcome = converges_in_state(
        placed_order,
        [payment_received(), payment_timed_out(), order_cancelled()],
    )
    .unwrap_or_else(|divergence| panic!("{divergence}"));
    assert_eq!(outcome.status, Some(InstanceStatus::Completed));
    assert_eq!(
        outcome.state,
        Some(OrderPayment {
            order: OrderStatus::Refunded,
            payment: PaymentStatus::Refunded,
            amount: 4200,
        })
    );
}

#[test]
fn whether_the_order_was_confirmed_before_the_refund_depends_on_the_order() {
    // A payment before the timeout confirms the order; a timeout before the
    // payment cancels it. Either way it ends cancelled and refunded, which
    // is why the test above compares only the state.
    let divergence = converges(
        placed_order,
        [payment_received(), payment_timed_out(), order_cancelled()],
    )
    .unwrap_err();
    assert_eq!(divergence.differences, ["commands"]);
    let confirm = OrderPaymentCommand::from(ConfirmOrder {
        order_id: ORDER.to_owned(),
    });
    assert!(divergence.first.commands.contains(&confirm));
    assert!(!divergence.other.commands.contains(&confirm));
}

#[test]
fn a_payment_alone_confirms_the_order() {
    placed_order()
        .when(payment_received())
        .then_sends([ConfirmOrder {
            order_id: ORDER.to_owned(),
        }
        .into()])
        .then_active()
        .then_state(|state| assert_eq!(state.order, OrderStatus::Confirmed));
}

#[test]
fn a_timeout_cancels_an_unpaid_order_and_a_late_payment_is_refunded() {
    placed_order()
        .when(payment_timed_out())
        .then_sends([CancelOrder {
            order_id: ORDER.to_owned(),
        }
        .into()])
        .when(payment_received())
        .then_sends([RefundPayment {
            order_id: ORDER.to_owned(),
            amount: 4200,
        }
        .into()])
        .then_completed();
}

#[test]
fn payment_and_timeout_alone_depend_on_which_came_first() {
    // Without the cancellation the first of payment and timeout decides, by
    // business rule; `converges` reports that instead of hiding it.
    let divergence =
        converges(placed_order, [payment_received(), payment_timed_out()]).unwrap_err();
    assert_eq!(
        divergence.first.state.unwrap().order,
        OrderStatus::Confirmed
    );
    // Timed out first: cancelled, and the late payment refunded.
    assert_eq!(divergence.other.state.unwrap().order, OrderStatus::Refunded);
    assert_eq!(divergence.orders, 2);
}
