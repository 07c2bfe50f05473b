package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/atrium-dev/atrium/store"
)

// entryCacheCollector exports the entry cache's figures (see
// store.DB.EntryCacheStats), read once per scrape.
type entryCacheCollector struct{ db *store.DB }

var (
	entryCacheHits = prometheus.NewDesc("atrium_entry_cache_hits_total",
		"Page views whose session and membership came from the entry cache.", nil, nil)
	entryCacheMisses = prometheus.NewDesc("atrium_entry_cache_misses_total",
		"Page views with a session that the entry cache could not answer while live.", nil, nil)
	entryCacheLapses = prometheus.NewDesc("atrium_entry_cache_lapses_total",
		"Times the entry cache went off and forgot everything (its watcher lost the connection or stopped hearing its probes).", nil, nil)
	entryCacheEntries = prometheus.NewDesc("atrium_entry_cache_entries",
		"Entries the entry cache holds.", nil, nil)
	entryCacheLive = prometheus.NewDesc("atrium_entry_cache_live",
		"1 while the entry cache's watcher hears database changes and the cache answers.", nil, nil)
)

func (entryCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{entryCacheHits, entryCacheMisses, entryCacheLapses, entryCacheEntries, entryCacheLive} {
		ch <- d
	}
}

func (c entryCacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.db.EntryCacheStats()
	live := 0.0
	if s.Live {
		live = 1
	}
	ch <- prometheus.MustNewConstMetric(entryCacheHits, prometheus.CounterValue, float64(s.Hits))
	ch <- prometheus.MustNewConstMetric(entryCacheMisses, prometheus.CounterValue, float64(s.Misses))
	ch <- prometheus.MustNewConstMetric(entryCacheLapses, prometheus.CounterValue, float64(s.Lapses))
	ch <- prometheus.MustNewConstMetric(entryCacheEntries, prometheus.GaugeValue, float64(s.Entries))
	ch <- prometheus.MustNewConstMetric(entryCacheLive, prometheus.GaugeValue, live)
}
