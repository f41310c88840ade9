//! Properties of the whole pipeline over generated configs (generated from
//! the field table, see support/gen.rs): lowering terminates without a panic;
//! the output is the same bytes on every run and in every thread (so it does
//! not depend on hash-set iteration order); every pct.conf line follows
//! Proxmox's grammar and schema and every raw key is on the allow-list; the
//! init command splits back into the process arguments.

mod support;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use support::entry::{translate_and_check, Outcome};
use support::pct_grammar::Schema;

fn case() -> impl Strategy<Value = (String, translator::Target)> {
    proptest::collection::vec(any::<u8>(), 0..6000).prop_filter_map(
        "the generator ran out of bytes early",
        |bytes| {
            let mut u = arbitrary::Unstructured::new(&bytes);
            support::gen::case(&mut u).ok()
        },
    )
}

fn in_new_thread(doc: &str, target: &translator::Target) -> Outcome {
    let (doc, target) = (doc.to_string(), target.clone());
    match std::thread::spawn(move || translate_and_check(&Schema::load(), doc.as_bytes(), &target))
        .join()
    {
        Ok(outcome) => outcome,
        Err(p) => std::panic::resume_unwind(p),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn outputs_are_valid_and_deterministic((doc, target) in case()) {
        let schema = Schema::load();
        let first = translate_and_check(&schema, doc.as_bytes(), &target);
        let second = translate_and_check(&schema, doc.as_bytes(), &target);
        prop_assert_eq!(&first, &second, "two runs differ");
        // A new thread has new hash keys: a HashSet's order differs there.
        let third = in_new_thread(&doc, &target);
        prop_assert_eq!(&first, &third, "a run in another thread differs");
    }
}

#[test]
fn the_generator_reaches_the_emitters() {
    // Without this, a generator that only produced refused configs would pass
    // every property above trivially.
    let schema = Schema::load();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = case();
    let (mut written, mut total) = (0, 0);
    for _ in 0..200 {
        let Ok(tree) = strategy.new_tree(&mut runner) else {
            continue;
        };
        let (doc, target) = tree.current();
        total += 1;
        let outcome = translate_and_check(&schema, doc.as_bytes(), &target);
        if !outcome.has_errors && matches!(outcome.pct_conf, Some(Ok(_))) {
            written += 1;
        }
    }
    assert!(
        written * 10 >= total,
        "only {written} of {total} generated configs were accepted and written"
    );
}
