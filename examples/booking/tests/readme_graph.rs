//! The README shows the booking process graph; it must be the one the
//! compiled transition table draws.

use booking::BookingProcess;
use pm_core::ProcessManager;

#[test]
fn the_readme_graph_is_the_generated_one() {
    let readme = include_str!("../../../README.md");
    let (_, after_marker) = readme
        .split_once("<!-- booking-graph -->")
        .expect("the README marks the booking graph with <!-- booking-graph -->");
    let block = after_marker
        .trim_start()
        .strip_prefix("```mermaid\n")
        .and_then(|rest| rest.split_once("```"))
        .map(|(graph, _)| graph)
        .expect("a mermaid block follows the marker");
    let generated = pm_core::mermaid(BookingProcess::descriptor());
    assert_eq!(
        block, generated,
        "the README's booking graph is stale; paste `cargo run -p booking --example graph` into it"
    );
}
