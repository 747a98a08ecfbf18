//! The compile-time check that every variant of every subscribed enum (and
//! of the timeouts enum) has a handler or an `ignore(..)` entry.
//!
//! The macro cannot see the enums' variants, so it asks the compiler: the
//! derives publish each variant's name and a ready-made error message
//! (`VARIANTS`), and one const item per variant index fails evaluation with
//! that message when the variant is not covered. A const per index (rather
//! than one loop) makes every missing variant its own error; all of them are
//! spanned on the enum's entry in `subscribe(..)` or `timeouts(..)`.

use proc_macro2::TokenStream;
use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::Path;

use crate::ast::Process;
use crate::prop::variant_of;

/// The most variants an enum may have and still be checked one by one.
const MAX_VARIANTS: usize = 64;

/// Every const check of the process.
pub(crate) fn expand_exhaustive_checks(process: &Process<'_>) -> TokenStream {
    let mut checks = TokenStream::new();
    for (index, enum_path) in process.attr.subscribe.iter().enumerate() {
        let covered: Vec<String> = process
            .event_handlers()
            .filter_map(|handler| handler.path())
            .chain(&process.attr.ignore)
            .filter(|path| process.subscription_of(path) == Some(index))
            .filter_map(variant_of)
            .map(ToString::to_string)
            .collect();
        checks.extend(expand_enum_check(
            enum_path,
            &covered,
            quote_spanned!(enum_path.span()=> ::pm_core::Event),
        ));
    }
    if let Some(timeouts) = &process.attr.timeouts {
        let covered: Vec<String> = process
            .timeout_handlers()
            .filter_map(|handler| handler.path())
            .filter(|path| process.is_timeout_kind(path))
            .filter_map(variant_of)
            .map(ToString::to_string)
            .collect();
        checks.extend(expand_enum_check(
            timeouts,
            &covered,
            quote_spanned!(timeouts.span()=> ::pm_core::Timeout),
        ));
    }
    checks
}

fn expand_enum_check(enum_path: &Path, covered: &[String], trait_path: TokenStream) -> TokenStream {
    let span = enum_path.span();
    let mut checks = TokenStream::new();
    for index in 0..MAX_VARIANTS {
        checks.extend(quote_spanned! {span=>
            const _: () = {
                const VARIANTS: &[::pm_core::__private::VariantInfo] = <#enum_path as #trait_path>::VARIANTS;
                if #index < VARIANTS.len()
                    && !::pm_core::__private::contains_str(&[#(#covered),*], VARIANTS[#index].name)
                {
                    ::core::panic!("{}", VARIANTS[#index].unhandled);
                }
            };
        });
    }
    let too_many = format!(
        "`{}` has more than {MAX_VARIANTS} variants, more than a process can check; split the enum",
        crate::ast::path_string(enum_path)
    );
    checks.extend(quote_spanned! {span=>
        const _: () = {
            if <#enum_path as #trait_path>::VARIANTS.len() > #MAX_VARIANTS {
                ::core::panic!(#too_many);
            }
        };
    });
    checks
}
