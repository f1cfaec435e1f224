"""Where django-import-export keeps the Contact admin's file between its preview and its
confirmation: the database (sync.models.ImportFile), not the web node's temporary folder,
so that the confirmation may reach any web node."""

from import_export.tmp_storages import BaseStorage

from sync.imports import services


class DatabaseStorage(BaseStorage):  # type: ignore[misc]
    def save(self, data: bytes) -> None:
        self.name = services.import_file_keep(data=data)

    def read(self) -> bytes:
        return services.import_file_read(name=self.name)

    def remove(self) -> None:
        services.import_file_remove(name=self.name)
