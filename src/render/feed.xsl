<?xml version="1.0" encoding="utf-8"?>
<!-- wirefeed: shows an RSS 2.0 or Atom 1.0 feed as a readable page when it
     is opened in a browser. Feed readers ignore it. -->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    exclude-result-prefixes="atom dc">
  <xsl:output method="html" encoding="utf-8" indent="yes"
      doctype-system="about:legacy-compat"/>

  <xsl:template match="/">
    <xsl:variable name="title" select="/rss/channel/title | /atom:feed/atom:title"/>
    <xsl:variable name="about" select="/rss/channel/description | /atom:feed/atom:subtitle"/>
    <xsl:variable name="self" select="/rss/channel/atom:link[@rel='self']/@href | /atom:feed/atom:link[@rel='self']/@href"/>
    <xsl:variable name="home" select="/rss/channel/link | /atom:feed/atom:link[@rel='alternate']/@href"/>
    <html>
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:call-template name="shown"><xsl:with-param name="text" select="$title"/></xsl:call-template> (feed)</title>
        <style>
          body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
          .subscribe { background: #f3f6fa; border: 1px solid #d5dde8; border-radius: 6px; padding: 0.75rem 1rem; }
          .subscribe code { word-break: break-all; }
          article { border-top: 1px solid #e3e3e3; padding: 1rem 0; }
          article h2 { font-size: 1.15rem; margin: 0 0 0.25rem; }
          .meta { color: #666; font-size: 0.9rem; }
        </style>
      </head>
      <body>
        <h1><xsl:call-template name="shown"><xsl:with-param name="text" select="$title"/></xsl:call-template></h1>
        <p><xsl:call-template name="shown"><xsl:with-param name="text" select="$about"/></xsl:call-template></p>
        <div class="subscribe">
          <strong>Subscribe:</strong> this is a web feed. Copy its address into
          your feed reader (NetNewsWire, Feedly, Miniflux, newsboat, Thunderbird…)
          to follow new stories:
          <br/><code><xsl:value-of select="$self"/></code>
        </div>
        <p><a href="{$home}">Visit the website</a></p>
        <xsl:apply-templates select="/rss/channel/item | /atom:feed/atom:entry"/>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <article>
      <h2><a href="{link}"><xsl:call-template name="shown"><xsl:with-param name="text" select="title"/></xsl:call-template></a></h2>
      <div class="meta">
        <xsl:value-of select="pubDate"/>
        <xsl:for-each select="dc:creator">
          <xsl:text> · </xsl:text><xsl:value-of select="."/>
        </xsl:for-each>
        <!-- `author` is `address (Name)`: the name. -->
        <xsl:for-each select="author">
          <xsl:text> · </xsl:text><xsl:value-of select="substring-before(substring-after(., '('), ')')"/>
        </xsl:for-each>
      </div>
      <p>
        <xsl:call-template name="shown">
          <xsl:with-param name="text" select="description"/>
        </xsl:call-template>
      </p>
    </article>
  </xsl:template>

  <!-- The text a reader sees. `description` is HTML, and so is text that
       looks like HTML (`</b>`, `&amp;`: Atom `type="html"`, RSS titles):
       wirefeed writes such text escaped, so undoing the escapes gives the
       text back (as text: never markup). Other text holds no escapes to undo. -->
  <xsl:template name="shown">
    <xsl:param name="text"/>
    <xsl:call-template name="replace">
      <xsl:with-param name="text">
        <xsl:call-template name="replace">
          <xsl:with-param name="text">
            <xsl:call-template name="replace">
              <xsl:with-param name="text">
                <xsl:call-template name="replace">
                  <xsl:with-param name="text">
                    <xsl:call-template name="replace">
                      <xsl:with-param name="text" select="$text"/>
                      <xsl:with-param name="from" select="'&amp;lt;'"/>
                      <xsl:with-param name="to" select="'&lt;'"/>
                    </xsl:call-template>
                  </xsl:with-param>
                  <xsl:with-param name="from" select="'&amp;gt;'"/>
                  <xsl:with-param name="to" select="'&gt;'"/>
                </xsl:call-template>
              </xsl:with-param>
              <xsl:with-param name="from" select="'&amp;quot;'"/>
              <xsl:with-param name="to" select="'&quot;'"/>
            </xsl:call-template>
          </xsl:with-param>
          <xsl:with-param name="from" select="'&amp;#39;'"/>
          <xsl:with-param name="to">'</xsl:with-param>
        </xsl:call-template>
      </xsl:with-param>
      <xsl:with-param name="from" select="'&amp;amp;'"/>
      <xsl:with-param name="to" select="'&amp;'"/>
    </xsl:call-template>
  </xsl:template>

  <xsl:template name="replace">
    <xsl:param name="text"/>
    <xsl:param name="from"/>
    <xsl:param name="to"/>
    <xsl:choose>
      <xsl:when test="contains($text, $from)">
        <xsl:value-of select="substring-before($text, $from)"/>
        <xsl:value-of select="$to"/>
        <xsl:call-template name="replace">
          <xsl:with-param name="text" select="substring-after($text, $from)"/>
          <xsl:with-param name="from" select="$from"/>
          <xsl:with-param name="to" select="$to"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="atom:entry">
    <article>
      <h2><a href="{atom:link[@rel='alternate']/@href}"><xsl:call-template name="shown"><xsl:with-param name="text" select="atom:title"/></xsl:call-template></a></h2>
      <div class="meta">
        <xsl:value-of select="atom:published"/>
        <xsl:for-each select="atom:author">
          <xsl:text> · </xsl:text><xsl:value-of select="atom:name"/>
        </xsl:for-each>
      </div>
      <p><xsl:call-template name="shown"><xsl:with-param name="text" select="atom:summary"/></xsl:call-template></p>
    </article>
  </xsl:template>
</xsl:stylesheet>
