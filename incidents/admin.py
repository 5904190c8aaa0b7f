"""Data entry for editors. Every save goes through `incidents.services`, so the admin can store nothing
the API would refuse, and every change is recorded with the editor who made it."""

import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import csrf_protect_m
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from incidents import releases, serials, services, shapes, tracing
from incidents.duplicates import LIKELY_DUPLICATE, similar_incidents
from incidents.models import (
    Actor,
    Citation,
    Incident,
    IncidentActor,
    Release,
    Source,
    Tag,
    Transfer,
    TransferCitation,
    WeaponItem,
)
from incidents.shapes import EDITOR


def _first_message(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
    return " ".join(error.messages)


class ServiceRefusal(Exception):
    """The services refused a save that the admin's forms had accepted: its errors go back on the form."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def refusal_from(error: Exception, instance) -> ServiceRefusal:
    if isinstance(error, services.VersionConflict):
        opened = instance.version if isinstance(instance, Incident) else None
        message = stale_edit_message(instance.pk, opened, error.current_version) if opened else str(error)
        return ServiceRefusal({"__all__": [message]})
    if hasattr(error, "error_dict"):
        return ServiceRefusal(error.message_dict)
    return ServiceRefusal({"__all__": error.messages})


class ServiceErrorsForm(forms.ModelForm):
    """A form that shows the errors the services gave when the admin saved it (set by `ServiceAdmin`)."""

    service_errors: dict[str, list[str]] = {}
    # Names the services use for what this form shows under another name.
    service_field_names: dict[str, str] = {}

    def clean(self):
        cleaned = super().clean()
        for name, refused in self.service_errors.items():
            field = self.service_field_names.get(name, name)
            listed = self.service_field_names.get(name.split("[")[0])  # an item of a list this form shows
            if field in self.fields:
                self.add_error(field, refused)
            elif listed in self.fields:
                self.add_error(listed, [f"{readable_field(name)}: {message}" for message in refused])
            else:  # an inline row or a rule of the whole record: named in the message
                self.add_error(None, [f"{readable_field(name)}: {message}" for message in refused])
        return cleaned


def readable_field(name: str) -> str:
    """`weapons[1].quantity` becomes "Weapon 2, quantity" for a person reading the form."""
    if name == "__all__":
        return "Record"
    match = re.fullmatch(r"(\w+)\[(\d+)\](?:\.(\w+)(?:\[(\d+)\])?)?", name)
    if not match:
        return name.replace("_", " ").capitalize()
    listed, index, field, item = match.groups()
    row = f"{listed.rstrip('s').replace('_', ' ').capitalize()} {int(index) + 1}"
    if item is not None:  # `weapons[0].serials[1]`: the second serial of the first weapon
        return f"{row}, {field.rstrip('s').replace('_', ' ')} {int(item) + 1}"
    return f"{row}, {field.replace('_', ' ')}" if field else row


class ServiceHistoryAdmin(SimpleHistoryAdmin):
    """Saves through the services, with what they refuse shown on the form; history without "revert"."""

    @csrf_protect_m
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Not in one transaction, unlike Django's own: each service call is one, and a networked geocoder
        # must answer before the write transaction opens (as through the API).
        try:
            return self._changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefusal as refusal:
            # Nothing was written: show the same POST again, with the services' errors on its form.
            request.service_errors = refusal.errors
            return self._changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        errors = getattr(request, "service_errors", None)
        if errors and request.method == "POST":
            return type(form.__name__, (form,), {"service_errors": errors})
        return form

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        return super().history_form_view(request, object_id, version_id, extra_context)


# --- Incidents ------------------------------------------------------------------------------------


GRADING_HELP = (
    "Grades follow docs/grading.md. Reliability (of the source): A the official body itself; B established news "
    "organisations reporting on the record, news agencies; C tabloids, local or online-only sites, relays and "
    "copies; D partisan or anonymous outlets; E social media, known disinformation; F cannot be judged. "
    "Credibility (of this citation): 1 confirmed by independent sources; 2 probably true (one A/B report); "
    "3 possibly true; 4 doubtful (anonymous or unconfirmed); 5 improbable (denied, or withdrawn by its author); "
    "6 cannot be judged. A confirmed incident needs a supporting citation of an official or A/B source."
)


class LinesField(forms.CharField):
    """A list of strings (serials, lots) edited one per line."""

    widget = forms.Textarea(attrs={"rows": 2, "cols": 22})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        if isinstance(value, list | tuple):
            return list(value)
        return [line.strip() for line in (value or "").splitlines() if line.strip()]

    def has_changed(self, initial, data):
        # Compared as lists: an empty one is no change (else an inline's blank extra row counts as filled in).
        return self.to_python(initial) != self.to_python(data)


class WeaponInlineForm(forms.ModelForm):
    serials = LinesField(required=False, help_text="One serial per line, as shown on the weapon.")

    class Meta:
        model = WeaponItem
        fields = ["category", "quantity", "quantity_precision", "description", "suspected_origin", "markings"]


class WeaponInline(admin.TabularInline):
    model = WeaponItem
    form = WeaponInlineForm
    extra = 1
    fields = ["category", "quantity", "quantity_precision", "description", "suspected_origin", "markings", "serials"]


class CitationInline(admin.TabularInline):
    """Citations; their rules (published needs a supporting one, confirmed an official or A/B one) are the
    services', shown on the form when a save is refused."""

    model = Citation
    extra = 1
    autocomplete_fields = ["source"]
    fields = ["source", "stance", "credibility", "excerpt", "excerpt_language"]


class ActorInline(admin.TabularInline):
    model = IncidentActor
    extra = 0
    autocomplete_fields = ["actor"]
    verbose_name = "actor"
    verbose_name_plural = "actors"


def stale_edit_message(incident_id: int, opened: int, current: int) -> str:
    """Which of the incident's own fields changed between the version the editor opened and now."""
    rows = Incident.history.filter(id=incident_id)
    then = rows.filter(version=opened).order_by("-history_id").first()
    now = rows.order_by("-history_id").first()
    changed = sorted(now.diff_against(then).changed_fields) if then and now else []
    what = f"changed fields: {', '.join(changed)}" if changed else "its weapons, citations, actors or tags changed"
    return (
        f"This incident was changed since you opened it (version {opened}, now {current}; {what}). "
        "Your edits were not saved: reload the page to see the current version, then edit again."
    )


class GeocodeWarningFilter(admin.SimpleListFilter):
    title = "geocode warning"
    parameter_name = "geocode_warning"

    def lookups(self, request, model_admin):
        return [("yes", "With a warning"), ("no", "Without")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(geocode_warning="")
        if self.value() == "no":
            return queryset.filter(geocode_warning="")
        return queryset


class IncidentAdminForm(ServiceErrorsForm):
    # The version the editor opened: saving over a newer one is refused (API.md "no edit may be lost").
    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    tag_slugs = forms.CharField(
        label="tags",
        required=False,
        help_text="Comma-separated slugs, e.g. ukraine-aid, grenades. New tags are created on first use.",
    )

    service_field_names = {"tags": "tag_slugs"}

    class Meta:
        model = Incident
        fields = list(shapes.EDITABLE_INCIDENT_FIELDS)
        help_texts = {"verification": GRADING_HELP}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["loaded_version"].initial = self.instance.version
            self.fields["tag_slugs"].initial = ", ".join(self.instance.tags.values_list("slug", flat=True))

    def clean_loaded_version(self):
        opened = self.cleaned_data.get("loaded_version")
        if not self.instance.pk or opened is None:
            return opened
        current = Incident.objects.filter(pk=self.instance.pk).values_list("version", flat=True).first()
        if current is not None and current != opened:
            raise ValidationError(stale_edit_message(self.instance.pk, opened, current))
        return opened

    def clean_tag_slugs(self) -> list[str]:
        return [slug.strip() for slug in self.cleaned_data["tag_slugs"].split(",") if slug.strip()]


class SavedWithInlinesAdmin(ServiceHistoryAdmin):
    """An object saved with its inlines in one service call, made by `save_related`."""

    def save_model(self, request, obj, form, change):
        """Deferred to `save_related`, where the inlines' data is known."""

    def construct_change_message(self, request, form, formsets, add=False):
        # The inlines are saved by the service, not by their formsets; their changes are in the history.
        return super().construct_change_message(request, form, [], add)


@admin.register(Incident)
class IncidentAdmin(SavedWithInlinesAdmin):
    form = IncidentAdminForm
    inlines = [WeaponInline, CitationInline, ActorInline]
    list_display = [
        "title",
        "country",
        "occurred_on",
        "verification",
        "status",
        "weapons_total",
        "geo_precision",
    ]
    list_filter = [
        "country",
        "verification",
        "status",
        "incident_type",
        "weapons__category",
        "date_precision",
        "geo_precision",
        GeocodeWarningFilter,
    ]
    search_fields = ["title", "summary", "place", "citations__source__title", "citations__source__publisher"]
    date_hierarchy = "occurred_on"
    list_select_related = True
    readonly_fields = [
        "uid",
        "version",
        "weapons_total",
        "reported_on",
        "geocode_provider",
        "geocode_query",
        "geocoded_at",
        "geocode_warning",
        "location_map",
        "trace_panel",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (
            None,
            {"fields": ["title", "summary", "incident_type", "verification", "status", "tag_slugs", "loaded_version"]},
        ),
        ("When", {"fields": ["occurred_on", "date_precision", "reported_on"]}),
        ("Where", {"fields": ["country", "admin1", "place", "latitude", "longitude", "geo_precision", "location_map"]}),
        (
            "Provenance of the coordinates",
            {"fields": ["geocode_provider", "geocode_query", "geocoded_at", "geocode_warning"]},
        ),
        ("Tracing", {"fields": ["trace_panel"]}),
        ("Record", {"fields": ["uid", "version", "weapons_total", "created_at", "updated_at"]}),
    ]
    actions = ["publish_selected", "archive_selected", "geocode_selected", "merge_selected"]

    class Media:
        css = {"all": ["vendor/leaflet/leaflet.css", "dashboard/admin_map.css"]}
        js = ["vendor/leaflet/leaflet.js", "dashboard/basemap.js", "dashboard/admin_map.js"]

    @admin.display(description="trace candidates")
    def trace_panel(self, incident):
        """Transfers the weapons may have left, and other incidents with the same serials, as the API's
        `trace/` answers editors (the admin shows every incident, so it traces among them all)."""
        if incident is None or incident.pk is None:
            return "Saved incidents are traced against the transfers and the other incidents."
        trace = tracing.trace_incident(incident.pk, EDITOR)
        candidates = format_html_join(
            "",
            '<tr><td>{}</td><td><a href="{}">{} {}→{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    c["weapon"] + 1,
                    reverse("admin:incidents_transfer_change", args=[c["transfer"]["id"]]),
                    c["transfer"]["year"],
                    c["transfer"]["supplier"],
                    c["transfer"]["recipient"],
                    c["match"],
                    c["score"],
                    "; ".join(c["reasons"]),
                )
                for c in trace["candidates"]
            ),
        )
        recovered = format_html_join(
            "",
            '<tr><td>{}</td><td><a href="{}">#{} {}</a> ({}, {})</td><td>{}</td></tr>',
            (
                (
                    r["weapon"] + 1,
                    reverse("admin:incidents_incident_change", args=[r["incident"]["id"]]),
                    r["incident"]["id"],
                    r["incident"]["title"],
                    r["incident"]["country"],
                    r["incident"]["occurred_on"],
                    r["serial"],
                )
                for r in trace["recovered_elsewhere"]
            ),
        )
        none = format_html("<p>{}</p>", "None found.")
        return format_html(
            '<div class="trace-panel"><h4>Transfers</h4>{}<h4>Same serial in other incidents</h4>{}</div>',
            format_html(
                '<table class="trace-candidates"><thead><tr><th>weapon</th><th>transfer</th><th>match</th>'
                "<th>score</th><th>why</th></tr></thead><tbody>{}</tbody></table>",
                candidates,
            )
            if trace["candidates"]
            else none,
            format_html(
                '<table class="trace-recovered"><thead><tr><th>weapon</th><th>incident</th><th>serial</th></tr>'
                "</thead><tbody>{}</tbody></table>",
                recovered,
            )
            if trace["recovered_elsewhere"]
            else none,
        )

    @admin.display(description="map")
    def location_map(self, incident):
        """Where the coordinates put the incident, on the dashboard's offline map, before it is published.
        Clicking the map or dragging the pin fills latitude and longitude (saved as `manual` coordinates)."""
        warning = incident.geocode_warning if incident else ""
        return format_html(
            '<div id="location-map" class="location-map" role="region" aria-label="Map of the incident\'s coordinates"'
            ' data-outlines="{}" data-tile-url="{}" data-tile-attribution="{}" data-latitude="{}" data-longitude="{}">'
            "</div>"
            '<p class="help">Click the map or drag the pin to set the coordinates by hand (saved with geocode'
            " provider <code>manual</code>), then choose how precise they are (empty: exact).</p>{}",
            static("dashboard/countries.geojson"),
            settings.MAP_TILE_URL,
            settings.MAP_TILE_ATTRIBUTION,
            "" if incident is None or incident.latitude is None else incident.latitude,
            "" if incident is None or incident.longitude is None else incident.longitude,
            format_html('<p class="location-map-warning">Country check: {}</p>', warning) if warning else "",
        )

    def save_related(self, request, form, formsets, change):
        data = self._incident_data(form, change)
        data["tags"] = form.cleaned_data["tag_slugs"]
        for formset in formsets:
            rows = [f.cleaned_data for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
            if formset.model is WeaponItem:
                data["weapons"] = [{name: row.get(name) for name in shapes.WEAPON_FIELDS} for row in rows]
            elif formset.model is Citation:
                data["citations"] = [
                    services.CitationData(source=row["source"], **{name: row[name] for name in shapes.CITATION_FIELDS})
                    for row in rows
                    if row.get("source")
                ]
            elif formset.model is IncidentActor:
                data["actors"] = [row["actor"] for row in rows if row.get("actor")]
        try:
            if change:
                saved = services.incident_update(
                    incident=form.instance,
                    user=request.user,
                    data=data,
                    expected_version=form.cleaned_data.get("loaded_version"),
                )
            else:
                saved = services.incident_create(user=request.user, data=data)
        except (ValidationError, services.VersionConflict) as error:
            raise refusal_from(error, form.instance) from error
        # The admin goes on with `form.instance` (messages, log entry, redirect): give it the saved state.
        form.instance.__dict__.update(saved.__dict__)
        self._warn_of_duplicates(request, saved)

    @staticmethod
    def _incident_data(form, change: bool) -> dict:
        """The incident's fields as the API would send them: coordinates only when the editor typed or changed
        them (they are then `manual`), so that a place without coordinates is geocoded exactly as through the
        API, and a changed place is geocoded again unless its coordinates were typed by hand."""
        coordinates = ("latitude", "longitude", "geo_precision")
        typed = (
            bool(set(coordinates) & set(form.changed_data))
            if change
            else form.cleaned_data.get("latitude") is not None or form.cleaned_data.get("longitude") is not None
        )
        return {
            name: form.cleaned_data[name] for name in IncidentAdminForm.Meta.fields if typed or name not in coordinates
        }

    def _warn_of_duplicates(self, request, incident) -> None:
        likely = [
            match
            for match in similar_incidents(incident, Incident.objects.all(), limit=5)
            if match.score >= LIKELY_DUPLICATE
        ]
        if likely:
            links = format_html_join(
                ", ",
                '<a href="{}">#{} {}</a> ({})',
                (
                    (
                        reverse("admin:incidents_incident_change", args=[m.incident.pk]),
                        m.incident.pk,
                        m.incident.title,
                        "; ".join(m.reasons),
                    )
                    for m in likely
                ),
            )
            message = format_html("Possible duplicate reports of the same event: {}. Merge them if so.", links)
            self.message_user(request, message, messages.WARNING)

    def delete_model(self, request, obj):
        services.incident_delete(incident=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for incident in queryset:
            services.incident_delete(incident=incident, user=request.user)

    @admin.action(description="Publish selected incidents", permissions=["change"])
    def publish_selected(self, request, queryset):
        self._apply_to_each(request, queryset, services.incident_publish, "published")

    @admin.action(description="Archive selected incidents", permissions=["change"])
    def archive_selected(self, request, queryset):
        self._apply_to_each(request, queryset, services.incident_archive, "archived")

    @admin.action(description="Geocode selected incidents (coordinates typed by hand are kept)", permissions=["change"])
    def geocode_selected(self, request, queryset):
        self._apply_to_each(request, queryset, services.incident_geocode, "geocoded")

    @admin.action(description="Merge selected incidents (duplicate reports of one event)", permissions=["delete"])
    def merge_selected(self, request, queryset):
        incidents = list(queryset.order_by("id"))
        if len(incidents) < 2:
            self.message_user(request, "Select at least two incidents to merge.", messages.ERROR)
            return None
        if request.POST.get("apply") != "yes":
            context = {**self.admin_site.each_context(request), "opts": self.model._meta, "incidents": incidents}
            context["title"] = "Merge duplicate reports"
            return TemplateResponse(request, "admin/incidents/incident/merge_selected.html", context)
        kept = next((i for i in incidents if str(i.pk) == request.POST.get("keep")), None)
        if kept is None:
            self.message_user(request, "Choose the incident to keep.", messages.ERROR)
            return None
        others = [incident for incident in incidents if incident.pk != kept.pk]
        try:
            services.incident_merge(kept=kept, duplicates=others, user=request.user)
        except ValidationError as error:
            self.message_user(request, f"Nothing was merged: {_first_message(error)}", messages.ERROR)
            return None
        merged = ", ".join(f"#{incident.pk}" for incident in others)
        self.message_user(request, f"Merged {merged} into #{kept.pk} “{kept}”.", messages.SUCCESS)
        return None

    def _apply_to_each(self, request, queryset, service, done: str) -> None:
        succeeded = 0
        for incident in queryset:
            try:
                service(incident=incident, user=request.user)
                succeeded += 1
            except ValidationError as error:
                self.message_user(request, f"“{incident}” was not {done}: {_first_message(error)}", messages.ERROR)
        if succeeded:
            self.message_user(request, f"{succeeded} incident(s) {done}.", messages.SUCCESS)


# --- Sources, actors, tags ------------------------------------------------------------------------


class ServiceSavedAdmin(ServiceHistoryAdmin):
    """Saves and deletes through `<entity>_create`, `_update` and `_delete` services."""

    create_service = update_service = delete_service = None
    service_fields: tuple[str, ...] = ()
    instance_argument = ""

    form = ServiceErrorsForm

    def save_model(self, request, obj, form, change):
        try:
            if change:
                data = {name: form.cleaned_data[name] for name in form.changed_data if name in self.service_fields}
                stored = type(obj).objects.get(pk=obj.pk)
                saved = type(self).update_service(**{self.instance_argument: stored}, user=request.user, data=data)
            else:
                data = {name: form.cleaned_data[name] for name in self.service_fields if name in form.cleaned_data}
                saved = type(self).create_service(user=request.user, data=data)
        except ValidationError as error:
            raise refusal_from(error, obj) from error
        obj.__dict__.update(saved.__dict__)

    def delete_model(self, request, obj):
        type(self).delete_service(**{self.instance_argument: obj}, user=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


# --- Transfers ------------------------------------------------------------------------------------


class SerialRangesField(forms.CharField):
    """Declared serial ranges, one per line, written as the serials at both ends: `AB001000–AB001999`
    (an en dash, `..`, or a hyphen with spaces around it, between them)."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 40})
    separator = re.compile(r"\s*(?:–|\.\.)\s*|\s+-\s+")

    def prepare_value(self, value):
        if not isinstance(value, list | tuple):
            return value
        return "\n".join(f"{r['prefix']}{r['first']}–{r['prefix']}{r['last']}" for r in value)

    def to_python(self, value):
        if isinstance(value, list | tuple):
            return list(value)
        ranges = []
        for number, line in enumerate((value or "").splitlines(), start=1):
            if not line.strip():
                continue
            ends = self.separator.split(line.strip())
            if len(ends) != 2:
                raise ValidationError(f"Line {number}: write a range as AB001000–AB001999.")
            (prefix, first), (other_prefix, last) = (serials.split_serial(serials.normal_serial(e)) for e in ends)
            if first is None or last is None or prefix != other_prefix:
                raise ValidationError(f"Line {number}: both ends need the same prefix and trailing digits.")
            ranges.append({"prefix": prefix, "first": first, "last": last})
        return ranges

    def has_changed(self, initial, data):
        try:
            return self.to_python(initial) != self.to_python(data)
        except ValidationError:
            return True


class TransferAdminForm(ServiceErrorsForm):
    serial_ranges = SerialRangesField(
        required=False, help_text="One range per line, from its first serial to its last: AB001000–AB001999."
    )
    lots = LinesField(required=False, help_text="One lot number per line.")

    service_field_names = {"serial_ranges": "serial_ranges", "lots": "lots"}

    class Meta:
        model = Transfer
        fields = [name for name in shapes.TRANSFER_FIELDS if name not in ("serial_ranges", "lots")]


class TransferCitationInline(admin.TabularInline):
    """The transfer's sources: it is public once it has one."""

    model = TransferCitation
    extra = 1
    autocomplete_fields = ["source"]
    fields = ["source", "stance", "credibility", "excerpt", "excerpt_language"]


@admin.register(Transfer)
class TransferAdmin(SavedWithInlinesAdmin):
    form = TransferAdminForm
    inlines = [TransferCitationInline]
    list_display = ["__str__", "supplier", "recipient", "year", "weapon_category", "quantity", "end_user"]
    list_filter = ["supplier", "recipient", "year", "weapon_category"]
    search_fields = ["end_user", "description", "notes"]
    readonly_fields = ["uid", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["supplier", "recipient", "end_user", "year", "weapon_category", "quantity"]}),
        ("What was declared", {"fields": ["description", "serial_ranges", "lots", "notes"]}),
        ("Record", {"fields": ["uid", "created_at", "updated_at"]}),
    ]

    def save_related(self, request, form, formsets, change):
        fields = list(shapes.TRANSFER_FIELDS)
        data = {name: form.cleaned_data[name] for name in fields if name in form.cleaned_data}
        for formset in formsets:
            rows = [f.cleaned_data for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
            data["citations"] = [
                services.CitationData(source=row["source"], **{name: row[name] for name in shapes.CITATION_FIELDS})
                for row in rows
                if row.get("source")
            ]
        try:
            if change:
                stored = Transfer.objects.get(pk=form.instance.pk)
                saved = services.transfer_update(transfer=stored, user=request.user, data=data)
            else:
                saved = services.transfer_create(user=request.user, data=data)
        except ValidationError as error:
            raise refusal_from(error, form.instance) from error
        form.instance.__dict__.update(saved.__dict__)

    def delete_model(self, request, obj):
        services.transfer_delete(transfer=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Source)
class SourceAdmin(ServiceSavedAdmin):
    create_service = services.source_create
    update_service = services.source_update
    delete_service = services.source_delete
    service_fields = shapes.SOURCE_FIELDS
    instance_argument = "source"

    list_display = ["publisher", "title", "published_on", "source_type", "reliability", "url"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_filter = ["source_type", "reliability", "language"]
    search_fields = ["url", "publisher", "title"]
    date_hierarchy = "published_on"
    fieldsets = [
        (None, {"fields": ["url", "title", "publisher", "published_on", "language"]}),
        ("Grading", {"fields": ["source_type", "reliability"], "description": GRADING_HELP}),
        ("Archive", {"fields": ["archived_url", "archived_at"]}),
    ]


@admin.register(Actor)
class ActorAdmin(ServiceSavedAdmin):
    create_service = services.actor_create
    update_service = services.actor_update
    delete_service = services.actor_delete
    service_fields = shapes.ACTOR_FIELDS
    instance_argument = "actor"

    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "kind"]
    fields = [*shapes.ACTOR_FIELDS]


@admin.register(Tag)
class TagAdmin(ServiceSavedAdmin):
    create_service = services.tag_create
    update_service = services.tag_update
    delete_service = services.tag_delete
    service_fields = shapes.TAG_FIELDS
    instance_argument = "tag"

    search_fields = ["slug"]
    list_display = ["slug"]
    fields = [*shapes.TAG_FIELDS]


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    """Dataset releases: read-only once made; "Make a release" writes the next one (as `make_release`)."""

    list_display = ["version", "created_at", "created_by", "incidents", "added", "changed", "removed"]
    readonly_fields = ["version", "created_at", "created_by", "data_as_of", "incidents", "sha256", "file_links"]
    fields = readonly_fields + ["changes"]
    change_list_template = "admin/incidents/release/change_list.html"

    def has_add_permission(self, request):
        return False  # made by the "Make a release" button, never by a form

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a release, once cited, must stay

    @admin.display(description="added")
    def added(self, release):
        return len(release.changes["added"])

    @admin.display(description="changed")
    def changed(self, release):
        return len(release.changes["changed"])

    @admin.display(description="removed")
    def removed(self, release):
        return len(release.changes["removed"])

    @admin.display(description="files")
    def file_links(self, release):
        return format_html_join(
            format_html("<br>"),
            '<a href="{}">{}</a> ({} bytes, SHA-256 {})',
            (
                (
                    reverse("release-file", args=[release.version, entry["name"]]),
                    entry["name"],
                    entry["bytes"],
                    entry["sha256"],
                )
                for entry in release.files
            ),
        )

    def get_urls(self):
        make = self.admin_site.admin_view(self.make_view)
        return [path("make/", make, name="incidents_release_make"), *super().get_urls()]

    def may_make(self, request) -> bool:
        return request.user.has_perm("incidents.add_release")

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "may_make": self.may_make(request)})

    @csrf_protect_m
    def make_view(self, request):
        """GET: what a release is, and a button; POST: make it."""
        if not self.may_make(request):
            raise PermissionDenied
        if request.method == "POST":
            try:
                release = releases.make(user=request.user)
            except releases.ReleaseError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                changes = release.changes
                self.message_user(
                    request,
                    f"Release {release.version} made: {release.incidents} incidents; {len(changes['added'])} added, "
                    f"{len(changes['changed'])} changed, {len(changes['removed'])} removed since the previous release.",
                    messages.SUCCESS,
                )
            return redirect("admin:incidents_release_changelist")
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET", "POST"])
        context = {
            **self.admin_site.each_context(request),
            "title": "Make a dataset release",
            "opts": self.model._meta,
            "latest": releases.latest(),
        }
        return TemplateResponse(request, "admin/incidents/release/make.html", context)
