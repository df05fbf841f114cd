#![no_main]
//! proxidd's wire protocol (proto/): any bytes as a stream of frames, decoded as the
//! daemon decodes requests and the modules decode answers. Never a panic; whatever
//! decodes re-encodes to a frame that decodes to the same value.

use proxid_proto::{split_frame, Request, Response, HEADER_LEN, MAX_FRAME, MAX_REQUEST};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for max in [MAX_REQUEST, MAX_FRAME] {
        let mut rest = data;
        while let Ok(Some((payload, used))) = split_frame(rest, max) {
            if let Ok(request) = Request::decode_payload(payload) {
                let frame = request.encode();
                let again = frame.get(HEADER_LEN..).map(Request::decode_payload);
                assert_eq!(again, Some(Ok(request)), "a request does not round-trip");
            }
            if let Ok(response) = Response::decode_payload(payload) {
                let frame = response.encode();
                let again = frame.get(HEADER_LEN..).map(Response::decode_payload);
                assert_eq!(again, Some(Ok(response)), "an answer does not round-trip");
            }
            rest = rest.get(used..).unwrap_or_default();
        }
    }
});
