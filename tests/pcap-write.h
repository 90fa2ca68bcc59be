/* SPDX-License-Identifier: MIT */
/* pcap-write: a classic pcap file of loopback IPv4/UDP datagrams, for tshark to decode. */
#ifndef ECHOD_PCAP_WRITE_H
#define ECHOD_PCAP_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The file header (pcap 2.4, LINKTYPE_RAW: records start at the IP header); f opened "wb". */
void	pcap_write_header(FILE *f);
/*
 * One record at sec: payload in an IPv4/UDP datagram from 127.0.0.1:sport to
 * 127.0.0.1:dport, TTL 64, DF, UDP checksum 0 (none: IPv4 allows it).
 */
void	pcap_write_udp4(FILE *f, const uint8_t *payload, size_t n, uint32_t sec, uint16_t sport,
	    uint16_t dport);

#endif
