// A stand-in for Route 53's ListResourceRecordSets, ChangeResourceRecordSets and GetChange on a
// loopback HTTP server (no AWS here), answering as the real API does: the listing holds every record
// set of the zone in Route 53's order (names compared label by label from the right, then type,
// then set identifier), starts at name/type/identifier, returns at most MaxItems (default and
// maximum 300) and says IsTruncated with NextRecordName, NextRecordType and NextRecordIdentifier.
import { httpStub, type HttpStub, type RecordedRequest } from './http-stub.js';

export interface StubRecordSet {
  name: string;
  type: string;
  ttl: number;
  values: string[];
  setIdentifier?: string;
  weight?: number;
}

const NS = 'xmlns="https://route53.amazonaws.com/doc/2013-04-01/"';
const MAX_ITEMS = 300;

/** Route 53's order: the name's labels from the right, then the type, then the set identifier. */
const sortKey = (r: { name: string; type: string; setIdentifier?: string }) =>
  [r.name.replace(/\.$/, '').split('.').reverse().join('.'), r.type, r.setIdentifier ?? ''] as const;
const compare = (a: readonly string[], b: readonly string[]) => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return 0;
};

const setXml = (r: StubRecordSet) =>
  `<ResourceRecordSet><Name>${r.name}</Name><Type>${r.type}</Type>${r.setIdentifier ? `<SetIdentifier>${r.setIdentifier}</SetIdentifier><Weight>${r.weight ?? 1}</Weight>` : ''}<TTL>${r.ttl}</TTL><ResourceRecords>${r.values.map((v) => `<ResourceRecord><Value>${v}</Value></ResourceRecord>`).join('')}</ResourceRecords></ResourceRecordSet>`;

function listing(zone: StubRecordSet[], query: URLSearchParams) {
  const maxItems = Math.min(Number(query.get('maxitems') ?? MAX_ITEMS), MAX_ITEMS);
  const start = [query.get('name') ?? '', query.get('type') ?? '', query.get('identifier') ?? ''];
  const sorted = [...zone].sort((a, b) => compare(sortKey(a), sortKey(b)));
  const from = start[0]
    ? sorted.findIndex(
        (r) =>
          compare(sortKey(r), sortKey({ name: start[0]!, type: start[1]!, setIdentifier: start[2]! })) >= 0,
      )
    : 0;
  const rest = from < 0 ? [] : sorted.slice(from);
  const page = rest.slice(0, maxItems);
  const next = rest[maxItems];
  return `<?xml version="1.0" encoding="UTF-8"?><ListResourceRecordSetsResponse ${NS}><ResourceRecordSets>${page.map(setXml).join('')}</ResourceRecordSets><IsTruncated>${Boolean(next)}</IsTruncated>${next ? `<NextRecordName>${next.name}</NextRecordName><NextRecordType>${next.type}</NextRecordType>${next.setIdentifier ? `<NextRecordIdentifier>${next.setIdentifier}</NextRecordIdentifier>` : ''}` : ''}<MaxItems>${maxItems}</MaxItems></ListResourceRecordSetsResponse>`;
}

const changeInfo = (root: string, status: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><${root} ${NS}><ChangeInfo><Id>/change/C0DRILL</Id><Status>${status}</Status><SubmittedAt>2025-01-01T00:00:00.000Z</SubmittedAt></ChangeInfo></${root}>`;

/** The zone `hostedZoneId` holding `zone`; a change is INSYNC at the `syncAfter`-th GetChange. */
export function route53Stub(hostedZoneId: string, zone: StubRecordSet[], syncAfter = 2): Promise<HttpStub> {
  let getChanges = 0;
  const rrset = `/2013-04-01/hostedzone/${hostedZoneId}/rrset`;
  return httpStub((req: RecordedRequest) => {
    const url = new URL(req.path, 'http://route53');
    if (req.method === 'GET' && url.pathname === rrset) {
      if (url.searchParams.get('type') && !url.searchParams.get('name'))
        return {
          status: 400,
          body: `<ErrorResponse ${NS}><Error><Type>Sender</Type><Code>InvalidInput</Code><Message>type without name</Message></Error></ErrorResponse>`,
        };
      return { body: listing(zone, url.searchParams) };
    }
    if (req.method === 'POST' && url.pathname === rrset)
      return { body: changeInfo('ChangeResourceRecordSetsResponse', 'PENDING') };
    if (req.method === 'GET' && url.pathname === '/2013-04-01/change/C0DRILL') {
      getChanges += 1;
      return { body: changeInfo('GetChangeResponse', getChanges < syncAfter ? 'PENDING' : 'INSYNC') };
    }
    return { status: 404, body: `<ErrorResponse ${NS}><Error><Code>NotFound</Code></Error></ErrorResponse>` };
  });
}
