/* SPDX-License-Identifier: MIT */
/* pcap-write: a classic pcap file of loopback IPv4/UDP datagrams, for tshark to decode. */
#include <netinet/in.h>
#include <string.h>

#include "pcap-write.h"

#define PCAP_LINKTYPE_RAW	101

static void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

/* pcap's own headers are in the writer's byte order: little-endian, said by the magic. */
static void
put_le32(FILE *f, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	fwrite(b, 1, 4, f);
}

void
pcap_write_header(FILE *f)
{
	put_le32(f, 0xa1b2c3d4);
	fwrite("\x02\x00\x04\x00", 1, 4, f);	/* version 2.4 */
	put_le32(f, 0);				/* thiszone */
	put_le32(f, 0);				/* sigfigs */
	put_le32(f, 65535);			/* snaplen */
	put_le32(f, PCAP_LINKTYPE_RAW);
}

void
pcap_write_udp4(FILE *f, const uint8_t *payload, size_t n, uint32_t sec, uint16_t sport,
    uint16_t dport)
{
	uint8_t h[28];
	uint32_t sum = 0;

	memset(h, 0, sizeof(h));
	h[0] = 0x45;
	put_be16(h + 2, (uint16_t)(28 + n));
	h[6] = 0x40;		/* DF */
	h[8] = 64;
	h[9] = IPPROTO_UDP;
	put_be32(h + 12, INADDR_LOOPBACK);
	put_be32(h + 16, INADDR_LOOPBACK);
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	sum = (sum & 0xffff) + (sum >> 16);
	put_be16(h + 10, (uint16_t)~sum);
	put_be16(h + 20, sport);
	put_be16(h + 22, dport);
	put_be16(h + 24, (uint16_t)(8 + n));
	put_le32(f, sec);
	put_le32(f, 0);
	put_le32(f, (uint32_t)(28 + n));
	put_le32(f, (uint32_t)(28 + n));
	fwrite(h, 1, sizeof(h), f);
	fwrite(payload, 1, n, f);
}
