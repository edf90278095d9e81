# etc: the default configuration and the systemd unit.
wazlabconfdir = $(sysconfdir)/wazlab
dist_wazlabconf_DATA = etc/ossec.conf

# The unit names installed paths, so make fills them in. Its -D is the
# programs' default data directory. systemd's StateDirectory= creates
# /var/lib/wazlab, so the unit works as is only with --localstatedir=/var.
systemdsystemunit_DATA = etc/wazlabd.service
EXTRA_DIST += etc/wazlabd.service.in
CLEANFILES += etc/wazlabd.service
etc/wazlabd.service: $(srcdir)/etc/wazlabd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) etc && sed \
	  -e 's|@sbindir[@]|$(sbindir)|g' \
	  -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	  -e 's|@wazlabstatedir[@]|$(wazlabstatedir)|g' \
	  $(srcdir)/etc/wazlabd.service.in > $@-t && mv -f $@-t $@
	@if test '$(wazlabstatedir)' != /var/lib/wazlab; then \
	  echo "NOTE: $@ runs wazlabd -D $(wazlabstatedir), but its" \
	    "StateDirectory is /var/lib/wazlab; configure with" \
	    "--localstatedir=/var to install the unit." >&2; \
	fi

# Real Sysmon events for the demo and the tests, with their sources.
dist_pkgdata_DATA += etc/samples/sysmon-eid1.jsonl
EXTRA_DIST += etc/samples/README.md
