import { badInput } from '../errors.ts';
import { type DocumentInput, nothingIngested } from '../rag/index.ts';
import { formatOfMediaType, formatOfName, readableFormats } from './file-formats.ts';
import { FileRefusedError } from './parsed-file.ts';
import type { FileOwner, ParsingThread } from './parsing-thread.ts';

/** A file as it arrives: an upload, a file read from disk, a fetched page. */
export interface NamedFile {
  /** Its name or path; its extension says its format. */
  name: string;
  /** Its media type, which says the format when the name does not. */
  type?: string;
  bytes: Uint8Array;
  /** Its title when the file has none of its own. @default the last part of its name */
  title?: string;
}

/**
 * Files to documents, the same way for the CLI and uploads: the format from the file's name, else
 * its media type, the file parsed on the parsing thread, its title the file's own (else its name).
 * A file ragql cannot read is refused with FileRefusedError saying why.
 */
export class DocumentFiles {
  private readonly parser: ParsingThread;
  private readonly maxFileBytes: number;
  private readonly maxFilesPerUpload: number;

  constructor(options: {
    parser: ParsingThread;
    /** The largest file read: the largest request body the server takes. */
    maxFileBytes: number;
    /** The most files in one upload: as many documents as one ingestion call takes. */
    maxFilesPerUpload: number;
  }) {
    this.parser = options.parser;
    this.maxFileBytes = options.maxFileBytes;
    this.maxFilesPerUpload = options.maxFilesPerUpload;
  }

  /**
   * The documents of files uploaded in one request, each with its file name as id and source, so
   * uploading a file again finds it UNCHANGED. Every file is read before anything is stored, and
   * one that cannot be read refuses the whole upload (BAD_USER_INPUT naming every such file), as
   * bad input to `ingestDocuments` does.
   */
  async documentsOfUploads(files: readonly File[], owner: FileOwner): Promise<DocumentInput[]> {
    if (files.length > this.maxFilesPerUpload) {
      throw badInput(
        `Too many files in one upload: ${files.length}; the limit is ${this.maxFilesPerUpload}.`,
      );
    }
    // The multipart map may send one file part to many variables: each would be read and parsed
    // again. A file is a document, named once (one part sent twice repeats its name too); and all
    // of them came in one body.
    const names = files.map((file) => file.name);
    const repeated = [...new Set(names.filter((name, position) => names.indexOf(name) !== position))];
    if (repeated.length > 0) {
      throw nothingIngested(repeated.map((name) => `${name}: sent more than once in this upload`));
    }
    const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
    if (totalBytes > this.maxFileBytes) {
      throw badInput(
        `The files are ${totalBytes} bytes in all; one upload takes at most ${this.maxFileBytes}.`,
      );
    }
    const documents: DocumentInput[] = [];
    const problems: string[] = [];
    for (const file of files) {
      try {
        const bytes = new Uint8Array(await file.arrayBuffer());
        documents.push(await this.documentOf({ name: file.name, type: file.type, bytes }, file.name, owner));
      } catch (error) {
        if (!(error instanceof FileRefusedError)) throw error;
        problems.push(`${file.name}: ${error.message}`);
      }
    }
    if (problems.length > 0) throw nothingIngested(problems);
    return documents;
  }

  async documentOf(file: NamedFile, id: string, owner: FileOwner): Promise<DocumentInput> {
    return (await this.read(file, id, owner)).document;
  }

  /** The file's document, and the links it holds (an HTML page's), for a crawl to follow. */
  async read(
    file: NamedFile,
    id: string,
    owner: FileOwner,
  ): Promise<{ document: DocumentInput; links: readonly string[] }> {
    if (file.bytes.byteLength > this.maxFileBytes) {
      throw new FileRefusedError(`it is ${file.bytes.byteLength} bytes; the limit is ${this.maxFileBytes}`);
    }
    const format = formatOfName(file.name) ?? formatOfMediaType(file.type);
    if (!format) {
      throw new FileRefusedError(`it is of a type ragql does not read; it reads ${readableFormats}`);
    }
    const parsed = await this.parser.parse(format, file.bytes, owner);
    const title = parsed.title ?? file.title ?? (file.name.split(/[/\\]/).at(-1) || file.name);
    return {
      document: { id, title, content: parsed.content, source: id, layout: parsed.layout },
      links: parsed.links ?? [],
    };
  }

  close(): Promise<void> {
    return this.parser.close();
  }
}
