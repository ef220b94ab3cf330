//! The SIP torture tests of RFC 4475 §3.1 (the parser's) and of RFC 5118 (IPv6), each
//! message sent to a running edge over UDP and over TCP and its answer held to the RFC's
//! verdict. The messages are written as the RFCs print them, in their notation, and
//! turned into octets by [`wire`]. A run reports every wrong verdict at once.

mod support;

use std::time::Duration;

use bidline_telephony::b2bua::Decision;
use bidline_telephony::wire::framing::{Frame, StreamFramer};
use support::TestEdge;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// What the RFC says a receiver does with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// Well formed: answered as its method and dialog call for (200 to OPTIONS, the
    /// router's 404 to a new INVITE, 481 to a request for no dialog or transaction we
    /// have, 501 to a method the edge does not implement), never refused as malformed.
    Accepted,
    /// Answered with this final status.
    Answered(u16),
    /// A response: discarded, nothing said.
    Dropped,
    /// Content-Length promises more than arrives: a datagram is refused with a 400
    /// (RFC 3261 §18.3); a stream waits for the rest, saying nothing meanwhile.
    Unfinished,
}

/// The final statuses of a request refused as malformed (400), for an unsupported
/// request-URI scheme (416) or SIP version (505).
const MALFORMED: [u16; 3] = [400, 416, 505];

impl Verdict {
    /// Whether the verdict over `transport` is that nothing comes back.
    fn silence(self, transport: Transport) -> bool {
        match self {
            Verdict::Dropped => true,
            Verdict::Unfinished => transport == Transport::Tcp,
            Verdict::Accepted | Verdict::Answered(_) => false,
        }
    }

    /// Whether `statuses`, the answers over `transport` up to the first final one, are
    /// what the verdict says.
    fn holds(self, transport: Transport, statuses: &[u16]) -> bool {
        let final_status = statuses.last().copied().filter(|status| *status >= 200);
        match (self, final_status) {
            _ if self.silence(transport) => statuses.is_empty(),
            (Verdict::Accepted, Some(status)) => !MALFORMED.contains(&status),
            (Verdict::Answered(expected), Some(status)) => status == expected,
            (Verdict::Unfinished, Some(status)) => status == 400,
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    Udp,
    Tcp,
}

struct Case {
    /// The RFC, section and title.
    name: &'static str,
    verdict: Verdict,
    /// The message as the RFC prints it (see [`wire`]).
    printed: &'static str,
}

/// The octets of a message as the RFC prints it (RFC 4475 §2, followed by RFC 5118):
/// every line ends in CRLF; the lines between `<allOneLine>` and `</allOneLine>` are one
/// line; `<repeat count=N>text</repeat>` is `text` N times; `<hex>…</hex>` holds octets
/// in hexadecimal, whitespace among the digits being layout.
fn wire(printed: &str) -> Vec<u8> {
    let mut text = String::new();
    let mut one_line = false;
    for line in printed.lines() {
        match line {
            "<allOneLine>" => one_line = true,
            "</allOneLine>" => {
                one_line = false;
                text.push_str("\r\n");
            }
            _ => {
                text.push_str(line);
                if !one_line {
                    text.push_str("\r\n");
                }
            }
        }
    }
    let mut octets = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = ["<hex>", "<repeat count="].iter().filter_map(|tag| rest.find(tag)).min() {
        octets.extend_from_slice(&rest.as_bytes()[..at]);
        rest = &rest[at..];
        if let Some(hex) = rest.strip_prefix("<hex>") {
            let (digits, after) = hex.split_once("</hex>").expect("</hex>");
            let digits: String = digits.split_whitespace().collect();
            let pairs = (0..digits.len()).step_by(2);
            octets.extend(pairs.map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex")));
            rest = after;
        } else {
            let (count, after) = rest["<repeat count=".len()..].split_once('>').expect(">");
            let (repeated, after) = after.split_once("</repeat>").expect("</repeat>");
            octets.extend_from_slice(repeated.repeat(count.parse().expect("a count")).as_bytes());
            rest = after;
        }
    }
    octets.extend_from_slice(rest.as_bytes());
    octets
}

const CASES: &[Case] = &[
    // Line folding, escaped quotes, LWS everywhere, compact and long forms of one field,
    // unknown parameters, leading zeros: "All elements should treat this as a well-formed
    // request." Its To has a tag, so it is for a dialog we do not have: 481.
    Case {
        name: "RFC 4475 §3.1.1.1 A Short Tortuous INVITE",
        verdict: Verdict::Accepted,
        printed: r#"INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0
TO :
 sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n
from   : "J Rosenberg \\\""       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj@192.0.2.1
Content-Length   : 150
cseq: 0009
  INVITE
Via  : SIP  /   2.0
 /UDP
    192.0.2.2;branch=390skdjuw
s :
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
Content-Type: application/sdp
Route:
 <sip:services.example.com;lr;unknownwith=value;unknown-no-value>
v:  SIP  / 2.0  / TCP     spindle.example.com   ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:"Quoted string \"\"" <sip:jdrosen@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.3
s=-
c=IN IP4 192.0.2.4
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
"#,
    },
    // Every token character in the method, unusual but legal URI characters, quoted
    // control characters, UTF-8: "Endpoints will generate a 501 listing the methods they
    // understand in an Allow header field."
    Case {
        name: "RFC 4475 §3.1.1.2 Wide Range of Valid Characters",
        verdict: Verdict::Answered(501),
        printed: r#"<allOneLine>
!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*
:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0
</allOneLine>
Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~
<allOneLine>
To: "BEL:\<hex>07</hex> NUL:\<hex>00</hex> DEL:\<hex>7F</hex>" <sip:1_unusual.URI~(to-be!sure)
&isn't+it$/crazy?,/;;*@example.com>
</allOneLine>
<allOneLine>
From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>
;fromParam''~+*_!.-%="<hex>D180D0B0D0B1D0BED182D0B0D18ED189D0B8D0B9</hex>"
;tag=_token~1'+`*%!-.
</allOneLine>
Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\/"][?}{
CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~
Max-Forwards: 255
<allOneLine>
extensionHeader-!.%*+_`'~:
<hex>EFBBBFE5A4A7E5819CE99BBB</hex>
</allOneLine>
Content-Length: 0

"#,
    },
    // % HEX HEX in user parts and URI parameters: "A parser must accept this as a
    // well-formed message."
    Case {
        name: "RFC 4475 §3.1.1.3 Valid Use of the % Escaping Mechanism",
        verdict: Verdict::Accepted,
        printed: r#"INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0
To: sip:%75se%72@example.com
From: <sip:I%20have%20spaces@example.net>;tag=938
Max-Forwards: 87
i: esc01.239409asdfakjkn23onasd0-3234
CSeq: 234234 INVITE
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw
C: application/sdp
Contact:
  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>
Content-Length: 150

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.1
s=-
c=IN IP4 192.0.2.1
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
"#,
    },
    // "The message is well formed - parsers must accept this message."
    Case {
        name: "RFC 4475 §3.1.1.4 Escaped Nulls in URIs",
        verdict: Verdict::Accepted,
        printed: r#"REGISTER sip:example.com SIP/2.0
To: sip:null-%00-null@example.com
From: sip:null-%00-null@example.com;tag=839923423
Max-Forwards: 70
Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd
CSeq: 14398234 REGISTER
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw
Contact: <sip:%00@host5.example.com>
Contact: <sip:%00%00@host5.example.com>
L:0

"#,
    },
    // RE%47IST%45R is not REGISTER: "An endpoint would reject this message with a 501."
    Case {
        name: "RFC 4475 §3.1.1.5 Use of % When It Is Not an Escape",
        verdict: Verdict::Answered(501),
        printed: r#"RE%47IST%45R sip:registrar.example.com SIP/2.0
To: "%Z%45" <sip:resource@example.com>
From: "%Z%45" <sip:resource@example.com>;tag=f232jadfj23
Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf
Via: SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234
CSeq: 29344 RE%47IST%45R
Max-Forwards: 70
Contact: <sip:alias1@host1.example.com>
C%6Fntact: <sip:alias2@host2.example.com>
Contact: <sip:alias3@host3.example.com>
l: 0

"#,
    },
    // Invalid by the letter of RFC 3261, a known bug in its grammar: "Elements should
    // accept this request as well formed."
    Case {
        name: "RFC 4475 §3.1.1.6 Message with No LWS between Display Name and <",
        verdict: Verdict::Accepted,
        printed: r#"OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: caller<sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID: lwsdisp.1234abcd@funky.example.com
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw
l: 0

"#,
    },
    Case {
        name: "RFC 4475 §3.1.1.7 Long Values in Header Fields",
        verdict: Verdict::Accepted,
        printed: r#"INVITE sip:user@example.com SIP/2.0
<allOneLine>
To: "I have a user name of <repeat count=10>extreme</repeat> proportion"<sip:user@example.com:6000
;unknownparam1=very<repeat count=20>long</repeat>value
;longparam<repeat count=25>name</repeat>=shortvalue
;very<repeat count=25>long</repeat>ParameterNameWithNoValue>
</allOneLine>
<allOneLine>
F: sip:<repeat count=5>amazinglylongcallername</repeat>@example.net
;tag=1<repeat count=50>298</repeat>2424
;unknownheaderparam<repeat count=20>name</repeat>=unknowheaderparam<repeat count=15>value</repeat>
;unknownValueless<repeat count=10>paramname</repeat>
</allOneLine>
Call-ID: longreq.one<repeat count=20>really</repeat>longcallid
CSeq: 3882340 INVITE
<allOneLine>
Unknown-<repeat count=20>Long</repeat>-Name: unknown-<repeat count=20>long</repeat>-value;
 unknown-<repeat count=20>long</repeat>-parameter-name =
 unknown-<repeat count=20>long</repeat>-parameter-value
</allOneLine>
Via: SIP/2.0/TCP sip33.example.com
v: SIP/2.0/TCP sip32.example.com
V: SIP/2.0/TCP sip31.example.com
Via: SIP/2.0/TCP sip30.example.com
ViA: SIP/2.0/TCP sip29.example.com
VIa: SIP/2.0/TCP sip28.example.com
VIA: SIP/2.0/TCP sip27.example.com
via: SIP/2.0/TCP sip26.example.com
viA: SIP/2.0/TCP sip25.example.com
vIa: SIP/2.0/TCP sip24.example.com
vIA: SIP/2.0/TCP sip23.example.com
V :  SIP/2.0/TCP sip22.example.com
v :  SIP/2.0/TCP sip21.example.com
V  : SIP/2.0/TCP sip20.example.com
v  : SIP/2.0/TCP sip19.example.com
Via : SIP/2.0/TCP sip18.example.com
Via  : SIP/2.0/TCP sip17.example.com
Via: SIP/2.0/TCP sip16.example.com
Via: SIP/2.0/TCP sip15.example.com
Via: SIP/2.0/TCP sip14.example.com
Via: SIP/2.0/TCP sip13.example.com
Via: SIP/2.0/TCP sip12.example.com
Via: SIP/2.0/TCP sip11.example.com
Via: SIP/2.0/TCP sip10.example.com
Via: SIP/2.0/TCP sip9.example.com
Via: SIP/2.0/TCP sip8.example.com
Via: SIP/2.0/TCP sip7.example.com
Via: SIP/2.0/TCP sip6.example.com
Via: SIP/2.0/TCP sip5.example.com
Via: SIP/2.0/TCP sip4.example.com
Via: SIP/2.0/TCP sip3.example.com
Via: SIP/2.0/TCP sip2.example.com
Via: SIP/2.0/TCP sip1.example.com
<allOneLine>
Via: SIP/2.0/TCP host.example.com;received=192.0.2.5
;branch=very<repeat count=50>long</repeat>branchvalue
</allOneLine>
Max-Forwards: 70
Contact: <sip:<repeat count=5>amazinglylongcallername</repeat>@host5.example.net>
Content-Type: application/sdp
l: 150

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.1
s=-
c=IN IP4 192.0.2.1
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
"#,
    },
    // A REGISTER followed, in the same datagram, by octets that look like an INVITE: "A
    // SIP element receiving this datagram would handle the REGISTER request normally and
    // ignore the extra bits." (On a stream they are the next message.)
    Case {
        name: "RFC 4475 §3.1.1.8 Extra Trailing Octets in a UDP Datagram",
        verdict: Verdict::Accepted,
        printed: r#"REGISTER sip:example.com SIP/2.0
To: sip:j.user@example.com
From: sip:j.user@example.com;tag=43251j3j324
Max-Forwards: 8
I: dblreq.0ha0isndaksdj99sdfafnl3lk233412
Contact: sip:j.user@host.example.com
CSeq: 8 REGISTER
Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492
Content-Length: 0

INVITE sip:joe@example.com SIP/2.0
t: sip:joe@example.com
From: sip:caller@example.net;tag=141334
Max-Forwards: 8
Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234
Content-Type: application/sdp
Content-Length: 150

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.15
s=-
c=IN IP4 192.0.2.15
t=0 0
m=audio 49217 RTP/AVP 0 12
m =video 3227 RTP/AVP 31
a=rtpmap:31 LPC
"#,
    },
    // "Receiving elements will accept this as a well-formed message."
    Case {
        name: "RFC 4475 §3.1.1.9 Semicolon-Separated Parameters in URI User Part",
        verdict: Verdict::Accepted,
        printed: r#"OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0
To: sip:j_user@example.com
From: sip:caller@example.org;tag=33242
Max-Forwards: 3
Call-ID: semiuri.0ha0isndaksdj
CSeq: 8 OPTIONS
Accept: application/sdp, application/pkcs7-mime,
        multipart/mixed, multipart/signed,
        message/sip, message/sipfrag
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw
l: 0

"#,
    },
    // "Parsers must accept this message as well formed."
    Case {
        name: "RFC 4475 §3.1.1.10 Varied and Unknown Transport Types",
        verdict: Verdict::Accepted,
        printed: r#"OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: <sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID:  transports.kijh4akdnaqjkwendsasfdj
Accept: application/sdp
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw
Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf
Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj
Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en
Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee
l: 0

"#,
    },
    // A binary body part with NUL octets, framed by Content-Length: "Parsers must accept
    // this message as well formed."
    Case {
        name: "RFC 4475 §3.1.1.11 Multipart MIME Message",
        verdict: Verdict::Accepted,
        printed: r#"MESSAGE sip:kumiko@example.org SIP/2.0
<allOneLine>
Via: SIP/2.0/UDP 127.0.0.1:5070
;branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport
</allOneLine>
Max-Forwards: 70
Route: <sip:127.0.0.1:5080>
<allOneLine>
Identity: r5mwreLuyDRYBi/0TiPwEsY3rEVsk/G2WxhgTV1PF7hHuL
IK0YWVKZhKv9Mj8UeXqkMVbnVq37CD+813gvYjcBUaZngQmXc9WNZSDN
GCzA+fWl9MEUHWIZo1CeJebdY/XlgKeTa0Olvq0rt70Q5jiSfbqMJmQF
teeivUhkMWYUA=
</allOneLine>
Contact: <sip:fluffy@127.0.0.1:5070>
To: <sip:kumiko@example.org>
From: <sip:fluffy@example.com>;tag=2fb0dcc9
Call-ID: 3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..
CSeq: 1 MESSAGE
Content-Transfer-Encoding: binary
Content-Type: multipart/mixed;boundary=7a9cbec02ceef655
Date: Sat, 15 Oct 2005 04:44:56 GMT
User-Agent: SIPimp.org/0.2.5 (curses)
Content-Length: 553

--7a9cbec02ceef655
Content-Type: text/plain
Content-Transfer-Encoding: binary

Hello
--7a9cbec02ceef655
Content-Type: application/octet-stream
Content-Transfer-Encoding: binary

<hex>3082015206092A864886F70D010702A08201433082013F02
01013109300706052B0E03021A300B06092A864886F70D010701318201203082
011C020101307C3070310B300906035504061302555331133011060355040813
0A43616C69666F726E69613111300F0603550407130853616E204A6F7365310E
300C060355040A1305736970697431293027060355040B132053697069742054
65737420436572746966696361746520417574686F7269747902080195007102
330113300706052B0E03021A300D06092A864886F70D01010105000481808EF4
66F948F0522DD2E5978E9D95AAE9F2FE15A06659716292E8DA2AA8D8350A68CE
FFAE3CBD2BFF1675DDD5648E593DD64728F26220F7E941749E330D9A15EDABDB
93D10C42102E7B7289D29CC0C9AE2EFBC7C0CFF9172F3B027E4FC027E1546DE4
B6AA3ABB3E66CCCB5DD6C64B8383149CB8E6FF182D944FE57B65BC99D005
</hex>
--7a9cbec02ceef655--
"#,
    },
    // A response, well formed; it belongs to no transaction here, so it is dropped.
    Case {
        name: "RFC 4475 §3.1.1.12 Unusual Reason Phrase",
        verdict: Verdict::Dropped,
        printed: r#"SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое
Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923
Call-ID: unreason.1234ksdfak3j2erwedfsASdf
CSeq: 35 INVITE
From: sip:user@example.com;tag=11141343
To: sip:user@example.edu;tag=2229
Content-Length: 154
Content-Type: application/sdp
Contact: <sip:user@host198.example.com>

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.198
s=-
c=IN IP4 192.0.2.198
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
"#,
    },
    // A response, well formed ("The space character after the reason code is
    // required"); dropped.
    Case {
        name: "RFC 4475 §3.1.1.13 Empty Reason Phrase",
        verdict: Verdict::Dropped,
        printed: concat!(
            // The status line ends in a space.
            "SIP/2.0 100 \n",
            r#"Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: noreason.asndj203insdf99223ndf
CSeq: 35 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>

"#
        ),
    },
    // Semicolons and commas with nothing between them in Via and Contact: "An element
    // receiving this request should respond with a 400 Bad Request error."
    Case {
        name: "RFC 4475 §3.1.2.1 Extraneous Header Field Separators",
        verdict: Verdict::Answered(400),
        printed: r#"INVITE sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=134161461246
Max-Forwards: 7
Call-ID: badinv01.0ha0isndaksdjasdf3234nas
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;;,;,,
Contact: "Joe" <sip:joe@example.org>;;;;
Content-Length: 152
Content-Type: application/sdp

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.15
s=-
c=IN IP4 192.0.2.15
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
"#,
    },
    // "When sent over UDP ... the receiving element should respond with a 400 Bad Request
    // error. If this message arrived over a stream-based transport, such as TCP, there's
    // not much the receiving party could do but wait for more data on the stream."
    Case {
        name: "RFC 4475 §3.1.2.2 Content Length Larger Than Message",
        verdict: Verdict::Unfinished,
        printed: r#"INVITE sip:user@example.com SIP/2.0
Max-Forwards: 80
To: sip:j.user@example.com
From: sip:caller@example.net;tag=93942939o2
Contact: <sip:caller@hungry.example.net>
Call-ID: clerr.0ha0isndaksdjweiafasdk3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523
Content-Type: application/sdp
Content-Length: 9999

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.155
s=-
c=IN IP4 192.0.2.155
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
"#,
    },
    // "An element receiving this message should respond with an error"; over TCP the
    // framing error is not recoverable and the connection is closed after it.
    Case {
        name: "RFC 4475 §3.1.2.3 Negative Content-Length",
        verdict: Verdict::Answered(400),
        printed: r#"INVITE sip:user@example.com SIP/2.0
Max-Forwards: 254
To: sip:j.user@example.com
From: sip:caller@example.net;tag=32394234
Call-ID: ncl.0ha0isndaksdj2193423r542w35
CSeq: 0 INVITE
Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw
Contact: <sip:caller@example53.example.net>
Content-Type: application/sdp
Content-Length: -999

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.53
s=-
c=IN IP4 192.0.2.53
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
"#,
    },
    // A CSeq number past 2**32-1 (and Max-Forwards, Expires past theirs): "An element
    // receiving this request should respond with a 400 Bad Request due to the CSeq
    // error."
    Case {
        name: "RFC 4475 §3.1.2.4 Request Scalar Fields with Overlarge Values",
        verdict: Verdict::Answered(400),
        printed: r#"REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3
To: <sip:user@example.com>
From: <sip:user@example.com>;tag=239232jh3
CSeq: 36893488147419103232 REGISTER
Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32
Max-Forwards: 300
Expires: 1<repeat count=100>0</repeat>
Contact: <sip:user@host129.example.com>
  ;expires=280297596632815
Content-Length: 0

"#,
    },
    // "An element receiving this response will simply discard it."
    Case {
        name: "RFC 4475 §3.1.2.5 Response Scalar Fields with Overlarge Values",
        verdict: Verdict::Dropped,
        printed: r#"SIP/2.0 503 Service Unavailable
<allOneLine>
Via: SIP/2.0/TCP host129.example.com
;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129
</allOneLine>
To: <sip:user@example.com>
From: <sip:other@example.net>;tag=2easdjfejw
CSeq: 9292394834772304023312 OPTIONS
Call-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r
Retry-After: 949302838503028349304023988
Warning: 1812 overture "In Progress"
Content-Length: 0

"#,
    },
    // "An element receiving this request should return a 400 Bad Request error."
    Case {
        name: "RFC 4475 §3.1.2.6 Unterminated Quoted String in Display Name",
        verdict: Verdict::Answered(400),
        printed: r#"INVITE sip:user@example.com SIP/2.0
To: "Mr. J. User <sip:j.user@example.com>
From: sip:caller@example.net;tag=93334
Max-Forwards: 10
Call-ID: quotbal.aksdj
Contact: <sip:caller@host59.example.net>
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234
Content-Type: application/sdp
Content-Length: 152

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.15
s=-
c=IN IP4 192.0.2.15
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
"#,
    },
    // "It is reasonable always to reject a request with this error with a 400 Bad
    // Request." (`<sip` is no scheme: this is not a 416.)
    Case {
        name: "RFC 4475 §3.1.2.7 <> Enclosing Request-URI",
        verdict: Verdict::Answered(400),
        printed: r#"INVITE <sip:user@example.com> SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=39291
Max-Forwards: 23
Call-ID: ltgtruri.1@192.0.2.5
CSeq: 1 INVITE
Via: SIP/2.0/UDP 192.0.2.5
Contact: <sip:caller@host5.example.net>
Content-Type: application/sdp
Content-Length: 159

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.5
s=-
c=IN IP4 192.0.2.5
t=3149328700 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
"#,
    },
    // "An element receiving this request should respond with a 400 Bad Request."
    Case {
        name: "RFC 4475 §3.1.2.8 Malformed SIP Request-URI (embedded LWS)",
        verdict: Verdict::Answered(400),
        printed: r#"INVITE sip:user@example.com; lr SIP/2.0
To: sip:user@example.com;tag=3xfe-9921883-z9f
From: sip:caller@example.net;tag=231413434
Max-Forwards: 5
Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423
CSeq: 2130706432 INVITE
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw2395
Contact: <sip:caller@host1.example.net>
Content-Type: application/sdp
Content-Length: 159

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.1
s=-
c=IN IP4 192.0.2.1
t=3149328700 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
"#,
    },
    // "It is acceptable to reject this request as malformed"; the edge holds the
    // request line to RFC 3261's grammar (single SPs) and does.
    Case {
        name: "RFC 4475 §3.1.2.9 Multiple SP Separating Request-Line Elements",
        verdict: Verdict::Answered(400),
        printed: r#"INVITE  sip:user@example.com  SIP/2.0
Max-Forwards: 8
To: sip:user@example.com
From: sip:caller@example.net;tag=8814
Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com
CSeq: 1893884 INVITE
Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw3923
Contact: <sip:caller@host1.example.net>
Content-Type: application/sdp
Content-Length: 150

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.1
s=-
c=IN IP4 192.0.2.1
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
"#,
    },
    // "It is acceptable to reject this request as malformed", as for §3.1.2.9.
    Case {
        name: "RFC 4475 §3.1.2.10 SP Characters at End of Request-Line",
        verdict: Verdict::Answered(400),
        printed: concat!(
            // The request line ends in two spaces.
            "OPTIONS sip:remote-target@example.com SIP/2.0  \n",
            r#"Via: SIP/2.0/TCP host1.examle.com;branch=z9hG4bK299342093
To: <sip:remote-target@example.com>
From: <sip:local-resource@example.com>;tag=329429089
Call-ID: trws.oicu34958239neffasdhr2345r
Accept: application/sdp
CSeq: 238923 OPTIONS
Max-Forwards: 70
Content-Length: 0

"#
        ),
    },
    // "It is acceptable for an element to reject this request with a 400 Bad Request";
    // RFC 3261 §19.1.1 allows no headers in a request-URI, and the edge does reject it.
    Case {
        name: "RFC 4475 §3.1.2.11 Escaped Headers in SIP Request-URI",
        verdict: Verdict::Answered(400),
        printed: r#"INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=341518
Max-Forwards: 7
Contact: <sip:caller@host39923.example.net>
Call-ID: escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5
CSeq: 149209342 INVITE
Via: SIP/2.0/UDP host-of-the-hour.example.com;branch=z9hG4bKkdjuw
Content-Type: application/sdp
Content-Length: 150

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.1
s=-
c=IN IP4 192.0.2.1
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
"#,
    },
    // "It is acceptable to reject this request as malformed (though an element shouldn't
    // do that unless the contents of the Date header field were actually important to
    // its processing)." The edge neither reads Date nor carries it to the other leg, so
    // it takes the call: the router's 404.
    Case {
        name: "RFC 4475 §3.1.2.12 Invalid Time Zone in Date Header Field",
        verdict: Verdict::Accepted,
        printed: r#"INVITE sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=2234923
Max-Forwards: 70
Call-ID: baddate.239423mnsadf3j23lj42--sedfnm234
CSeq: 1392934 INVITE
Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw
Date: Fri, 01 Jan 2010 16:00:00 EST
Contact: <sip:caller@host5.example.net>
Content-Type: application/sdp
Content-Length: 150

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.5
s=-
c=IN IP4 192.0.2.5
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
"#,
    },
    // A URI with a header outside <>: "It is reasonable for an element receiving this
    // request to respond with a 400 Bad Request." (Refused as malformed before the edge
    // says it does not implement REGISTER.)
    Case {
        name: "RFC 4475 §3.1.2.13 Failure to Enclose name-addr URI in <>",
        verdict: Verdict::Answered(400),
        printed: r#"REGISTER sip:example.com SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=998332
Max-Forwards: 70
Call-ID: regbadct.k345asrl3fdbv@10.0.0.1
CSeq: 1 REGISTER
Via: SIP/2.0/UDP 135.180.130.133:5060;branch=z9hG4bKkdjuw
Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E
l: 0

"#,
    },
    // "It is reasonable to reject this request with a 400 Bad Request response."
    Case {
        name: "RFC 4475 §3.1.2.14 Spaces within addr-spec",
        verdict: Verdict::Answered(400),
        printed: r#"OPTIONS sip:user@example.org SIP/2.0
Via: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKkdju43234
Max-Forwards: 70
From: "Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423
To: "Watson, Thomas" < sip:t.watson@example.org >
Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3
Accept: application/sdp
CSeq: 3923239 OPTIONS
l: 0

"#,
    },
    // "It is reasonable always to reject this kind of error with a 400 Bad Request
    // response."
    Case {
        name: "RFC 4475 §3.1.2.15 Non-token Characters in Display Name",
        verdict: Verdict::Answered(400),
        printed: r#"OPTIONS sip:t.watson@example.org SIP/2.0
Via:     SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards:      70
From:    Bell, Alexander <sip:a.g.bell@example.com>;tag=43
To:      Watson, Thomas <sip:t.watson@example.org>
Call-ID: baddn.31415@c.example.com
Accept: application/sdp
CSeq:    3923239 OPTIONS
l: 0

"#,
    },
    // "The element should respond to the request with a 505 Version Not Supported
    // error."
    Case {
        name: "RFC 4475 §3.1.2.16 Unknown Protocol Version",
        verdict: Verdict::Answered(505),
        printed: r#"OPTIONS sip:t.watson@example.org SIP/7.0
Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw
Max-Forwards:     70
From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe
To:      T. Watson <sip:t.watson@example.org>
Call-ID: badvers.31417@c.example.com
CSeq:    1 OPTIONS
l: 0

"#,
    },
    // "Any element receiving this request will respond with a 400 Bad Request."
    Case {
        name: "RFC 4475 §3.1.2.17 Start Line and CSeq Method Mismatch",
        verdict: Verdict::Answered(400),
        printed: r#"OPTIONS sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch01.dj0234sxdfl3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw
l: 0

"#,
    },
    // "Any element receiving this response should respond with a 501 Not Implemented. A
    // 400 Bad Request is also acceptable, but choosing a 501 (particularly at proxies) has
    // better future-proof characteristics."
    Case {
        name: "RFC 4475 §3.1.2.18 Unknown Method with CSeq Method Mismatch",
        verdict: Verdict::Answered(501),
        printed: r#"NEWMETHOD sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch02.dj0234sxdfl3
CSeq: 8 INVITE
Contact: <sip:caller@host.example.net>
Via: SIP/2.0/UDP host.example.net;branch=z9hG4bKkdjuw
Content-Type: application/sdp
l: 138

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.1
c=IN IP4 192.0.2.1
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
"#,
    },
    // "An element receiving this response should simply drop it."
    Case {
        name: "RFC 4475 §3.1.2.19 Overlarge Response Code",
        verdict: Verdict::Dropped,
        printed: r#"SIP/2.0 4294967301 better not break the receiver
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i
CSeq: 353494 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>

"#,
    },
    // Beyond §3.1, the one message for which RFC 4475 names 416: "An element receiving
    // this request will reject it with a 416 Unsupported URI Scheme response."
    Case {
        name: "RFC 4475 §3.3.2 Request-URI with Unknown Scheme",
        verdict: Verdict::Answered(416),
        printed: r#"OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=384
Max-Forwards: 3
Call-ID: unkscm.nasdfasser0q239nwsdfasdkl34
CSeq: 3923423 OPTIONS
Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234
Content-Length: 0

"#,
    },
    // "The request below is well-formatted according to the grammar in [RFC3261]."
    Case {
        name: "RFC 5118 §4.1 Valid SIP Message with an IPv6 Reference",
        verdict: Verdict::Accepted,
        printed: r#"REGISTER sip:[2001:db8::10] SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=81x2
Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111
Call-ID: SSG9559905523997077@hlau_4100
Max-Forwards: 70
Contact: "Caller" <sip:caller@[2001:db8::1]>
CSeq: 98176 REGISTER
Content-Length: 0

"#,
    },
    // No "[" "]" around the IPv6 address: "A SIP implementation receiving this request
    // should respond with a 400 Bad Request error."
    Case {
        name: "RFC 5118 §4.2 Invalid SIP Message with an IPv6 Reference",
        verdict: Verdict::Answered(400),
        printed: r#"REGISTER sip:2001:db8::10 SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=81x2
Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111
Call-ID: SSG9559905523997077@hlau_4100
Max-Forwards: 70
Contact: "Caller" <sip:caller@[2001:db8::1]>
CSeq: 98176 REGISTER
Content-Length: 0

"#,
    },
    // "From a parsing perspective, the request below is well-formed" (2001:db8::10:5070
    // is an IPv6 address, whatever its sender meant).
    Case {
        name: "RFC 5118 §4.3 Port Ambiguous in a SIP URI",
        verdict: Verdict::Accepted,
        printed: r#"REGISTER sip:[2001:db8::10:5070] SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=81x2
Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111
Call-ID: SSG9559905523997077@hlau_4100
Contact: "Caller" <sip:caller@[2001:db8::1]>
Max-Forwards: 70
CSeq: 98176 REGISTER
Content-Length: 0

"#,
    },
    // "This REGISTER request is well formatted per the grammar in [RFC3261]."
    Case {
        name: "RFC 5118 §4.4 Port Unambiguous in a SIP URI",
        verdict: Verdict::Accepted,
        printed: r#"REGISTER sip:[2001:db8::10]:5070 SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=81x2
Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111
Call-ID: SSG9559905523997077@hlau_4100
Contact: "Caller" <sip:caller@[2001:db8::1]>
Max-Forwards: 70
CSeq: 98176 REGISTER
Content-Length: 0

"#,
    },
    // A bracketed address in received=: "robust implementations must nonetheless be able
    // to parse the topmost Via header field and continue processing the request." (A BYE
    // for no dialog we have: 481.)
    Case {
        name: "RFC 5118 §4.5 IPv6 Reference Delimiters in Via Header (received=[…])",
        verdict: Verdict::Accepted,
        printed: r#"BYE sip:[2001:db8::10] SIP/2.0
To: sip:user@example.com;tag=bd76ya
From: sip:user@example.com;tag=81x2
<allOneLine>
Via: SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255]
;branch=z9hG4bKas3-111
</allOneLine>
Call-ID: SSG9559905523997077@hlau_4100
Max-Forwards: 70
CSeq: 321 BYE
Content-Length: 0

"#,
    },
    // "This request is valid according to the grammar in [RFC3261]."
    Case {
        name: "RFC 5118 §4.5 IPv6 Reference Delimiters in Via Header (received=…)",
        verdict: Verdict::Accepted,
        printed: r#"OPTIONS sip:[2001:db8::10] SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=81x2
<allOneLine>
Via: SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255
;branch=z9hG4bKas3
</allOneLine>
Call-ID: SSG95523997077@hlau_4100
Max-Forwards: 70
Contact: "Caller" <sip:caller@[2001:db8::9:1]>
CSeq: 921 OPTIONS
Content-Length: 0

"#,
    },
    // "This request below is valid and well-formed according to the grammar in
    // [RFC3261]." The RFC prints Content-Length: 268 for this 251-octet body; sent as
    // printed, RFC 3261 §18.3 would have the datagram refused for a short body, which is
    // not what this test is about. Here and in §4.8 and §4.9 Content-Length counts the
    // body as sent.
    Case {
        name: "RFC 5118 §4.6 SIP Request with IPv6 Addresses in Session Description \
               Protocol (SDP) Body",
        verdict: Verdict::Accepted,
        printed: r#"INVITE sip:user@[2001:db8::10] SIP/2.0
To: sip:user@[2001:db8::10]
From: sip:user@example.com;tag=81x2
Via: SIP/2.0/UDP [2001:db8::20];branch=z9hG4bKas3-111
Call-ID: SSG9559905523997077@hlau_4100
Contact: "Caller" <sip:caller@[2001:db8::20]>
CSeq: 8612 INVITE
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: 251

v=0
o=assistant 971731711378798081 0 IN IP6 2001:db8::20
s=Live video feed for today's meeting
c=IN IP6 2001:db8::20
t=3338481189 3370017201
m=audio 6000 RTP/AVP 2
a=rtpmap:2 G726-32/8000
m=video 6024 RTP/AVP 107
a=rtpmap:107 H263-1998/90000
"#,
    },
    // "The request below is valid and well-formed according to the grammar in [RFC3261]."
    // (A BYE for no dialog we have: 481.)
    Case {
        name: "RFC 5118 §4.7 Multiple IP Addresses in SIP Headers",
        verdict: Verdict::Accepted,
        printed: r#"BYE sip:user@host.example.net SIP/2.0
Via: SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKjhja8781hjuaij65144
<allOneLine>
Via: SIP/2.0/TCP [2001:db8::9:255];branch=z9hG4bK451jj
;received=192.0.2.200
</allOneLine>
Call-ID: 997077@lau_4100
Max-Forwards: 70
CSeq: 89187 BYE
To: sip:user@example.net;tag=9817--94
From: sip:user@example.com;tag=81x2
Content-Length: 0

"#,
    },
    // "The request below is valid and well-formed according to the grammar in [RFC3261]."
    // (Content-Length: 189, the body as sent; the RFC prints 181.)
    Case {
        name: "RFC 5118 §4.8 Multiple IP Addresses in SDP",
        verdict: Verdict::Accepted,
        printed: r#"INVITE sip:user@[2001:db8::10] SIP/2.0
To: sip:user@[2001:db8::10]
From: sip:user@example.com;tag=81x2
Via: SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111
Call-ID: SSG9559905523997077@hlau_4100
Contact: "Caller" <sip:caller@[2001:db8::9:1]>
Max-Forwards: 70
CSeq: 8912 INVITE
Content-Type: application/sdp
Content-Length: 189

v=0
o=bob 280744730 28977631 IN IP4 host.example.com
s=
t=0 0
m=audio 22334 RTP/AVP 0
c=IN IP4 192.0.2.1
m=video 6024 RTP/AVP 107
c=IN IP6 2001:db8::1
a=rtpmap:107 H263-1998/90000
"#,
    },
    // "The message below is well-formed according to the grammar in [RFC3261]."
    // (Content-Length: 245, the body as sent; the RFC prints 236.)
    Case {
        name: "RFC 5118 §4.9 IPv4-Mapped IPv6 Addresses",
        verdict: Verdict::Accepted,
        printed: r#"INVITE sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:user@east.example.com;tag=81x2
Via: SIP/2.0/UDP [::ffff:192.0.2.10]:19823;branch=z9hG4bKbh19
Via: SIP/2.0/UDP [::ffff:192.0.2.2];branch=z9hG4bKas3-111
Call-ID: SSG9559905523997077@hlau_4100
Contact: "T. desk phone" <sip:ted@[::ffff:192.0.2.2]>
CSeq: 612 INVITE
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: 245

v=0
o=assistant 971731711378798081 0 IN IP6 ::ffff:192.0.2.2
s=Call me soon, please!
c=IN IP6 ::ffff:192.0.2.2
t=3338481189 3370017201
m=audio 6000 RTP/AVP 2
a=rtpmap:2 G726-32/8000
m=video 6024 RTP/AVP 107
a=rtpmap:107 H263-1998/90000
"#,
    },
    // `2001:db8:::192.0.2.1` matches RFC 3261's IPv6address production (hexpart ":"
    // IPv4address), though not RFC 4291's: "A SIP implementation receiving such a message
    // may exhibit robustness by successfully parsing the IPv6 reference." The edge does.
    Case {
        name: "RFC 5118 §4.10 IPv6 Reference Bug in RFC 3261 ABNF (three colons)",
        verdict: Verdict::Accepted,
        printed: r#"OPTIONS sip:user@[2001:db8:::192.0.2.1] SIP/2.0
To: sip:user@[2001:db8:::192.0.2.1]
From: sip:user@example.com;tag=810x2
Via: SIP/2.0/UDP lab1.east.example.com;branch=z9hG4bKas3-111
Call-ID: G9559905523997077@hlau_4100
CSeq: 689 OPTIONS
Max-Forwards: 70
Content-Length: 0

"#,
    },
    // "The next message has the correct syntax for the IPv6 reference in the R-URI."
    Case {
        name: "RFC 5118 §4.10 IPv6 Reference Bug in RFC 3261 ABNF (two colons)",
        verdict: Verdict::Accepted,
        printed: r#"OPTIONS sip:user@[2001:db8::192.0.2.1] SIP/2.0
To: sip:user@[2001:db8::192.0.2.1]
From: sip:user@example.com;tag=810x2
Via: SIP/2.0/UDP lab1.east.example.com;branch=z9hG4bKas3-111
Call-ID: G9559905523997077@hlau_4100
CSeq: 689 OPTIONS
Max-Forwards: 70
Content-Length: 0

"#,
    },
];

/// How long an answer may take; a message that gets none is waited on for [`QUIET`].
const ANSWER_WITHIN: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(500);

/// The status of a response, from its status line; 0 for anything else.
fn status(message: &[u8]) -> u16 {
    message
        .strip_prefix(b"SIP/2.0 ")
        .and_then(|rest| std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok())
        .unwrap_or(0)
}

/// The statuses of the answers to `message`, sent to `edge` over `transport`, up to the
/// first final one; waits `within` for each.
async fn answers(
    edge: &TestEdge,
    transport: Transport,
    message: &[u8],
    within: Duration,
) -> Vec<u16> {
    let mut statuses = Vec::new();
    let mut buffer = vec![0; 65_536];
    match transport {
        Transport::Udp => {
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            socket.send_to(message, edge.addr()).await.unwrap();
            while statuses.last().is_none_or(|last| *last < 200) {
                let Ok(Ok(length)) = tokio::time::timeout(within, socket.recv(&mut buffer)).await
                else {
                    break;
                };
                statuses.push(status(&buffer[..length]));
            }
        }
        Transport::Tcp => {
            let mut stream = TcpStream::connect(edge.edge.tcp_addr()).await.unwrap();
            stream.write_all(message).await.unwrap();
            let mut framer = StreamFramer::default();
            while statuses.last().is_none_or(|last| *last < 200) {
                let Ok(Ok(length @ 1..)) =
                    tokio::time::timeout(within, stream.read(&mut buffer)).await
                else {
                    break;
                };
                framer.push(&buffer[..length]);
                while statuses.last().is_none_or(|last| *last < 200)
                    && let Ok(Some(Frame::Message(answer))) = framer.next_frame()
                {
                    statuses.push(status(&answer));
                }
            }
        }
    }
    statuses
}

/// Sends the case to an edge of its own (no Call-ID of one case meets another's) that
/// knows every source, so no answer over UDP is held back for its size; `Err` says how
/// the answer differs from the verdict.
async fn judge(case: &Case, transport: Transport) -> Result<(), String> {
    let edge = TestEdge::start(Decision::Reject { status: 404, reason: "Not Found".into() }).await;
    let within = if case.verdict.silence(transport) { QUIET } else { ANSWER_WITHIN };
    let statuses = answers(&edge, transport, &wire(case.printed), within).await;
    if case.verdict.holds(transport, &statuses) {
        Ok(())
    } else {
        Err(format!("{} over {transport:?}: {:?}, answered {statuses:?}", case.name, case.verdict))
    }
}

/// Judges every case over `transport` at once, and lists the wrong verdicts.
async fn wrong_verdicts(transport: Transport) -> Vec<String> {
    let judged: Vec<_> = CASES.iter().map(|case| tokio::spawn(judge(case, transport))).collect();
    let mut wrong = Vec::new();
    for verdict in judged {
        if let Err(why) = verdict.await.unwrap() {
            wrong.push(why);
        }
    }
    wrong
}

#[tokio::test]
async fn every_torture_message_over_udp_gets_the_rfc_verdict() {
    let wrong = wrong_verdicts(Transport::Udp).await;
    assert!(wrong.is_empty(), "{} wrong verdicts:\n{}", wrong.len(), wrong.join("\n"));
}

#[tokio::test]
async fn every_torture_message_over_tcp_gets_the_rfc_verdict() {
    let wrong = wrong_verdicts(Transport::Tcp).await;
    assert!(wrong.is_empty(), "{} wrong verdicts:\n{}", wrong.len(), wrong.join("\n"));
}
