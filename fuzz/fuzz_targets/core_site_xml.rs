#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| proxid::fuzzing::core_site_xml(data));
