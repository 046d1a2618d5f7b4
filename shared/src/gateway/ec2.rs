//! EC2, for the reads Steward makes there: DescribeImages (the customer's AMIs offered for
//! import during onboarding, [`Ec2Client::owned_amis`]) and DescribeSubnets (the Availability
//! Zones of a directory's subnets, which pre-flight checks against the zones WorkSpaces
//! supports, [`Ec2Client::subnets`]).
//!
//! `aws-sdk-ec2` models several hundred operations; compiling it was the largest single part
//! of building the Lambda artifact (about 4 min in debug here, more in release) against a
//! 15-minute release budget, and it would push the bootstrap past Lambda's size limit — for
//! two reads. So these calls speak ec2Query (reference §1.3 and §10) through
//! [`SignedClient`] (signing, retries, error classification) and read the answers with
//! `aws-smithy-xml`.

use std::borrow::Cow;

use aws_smithy_xml::decode::{Document, ScopedDecoder, XmlDecodeError, try_data};

use crate::aws::AwsError;
use crate::aws::signed::{QueryForm, Service, SignedClient, SignedGateway};
use crate::onboarding::AmiFacts;

/// EC2 as [`SignedClient`] reaches it.
pub const SERVICE: Service = Service {
    name: "EC2",
    endpoint_prefix: "ec2",
    json_target: None,
    global: None,
};
const API_VERSION: &str = "2016-11-15";

/// A DescribeImages request (the parameters Steward uses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeImages {
    pub owners: Vec<String>,
    pub image_ids: Vec<String>,
    /// `(name, values)`.
    pub filters: Vec<(String, Vec<String>)>,
    pub max_results: Option<u32>,
    pub next_token: Option<String>,
}

impl DescribeImages {
    fn query(&self) -> QueryForm {
        let mut form = QueryForm::new("DescribeImages", API_VERSION);
        form.list("Owner", &self.owners)
            .list("ImageId", &self.image_ids);
        for (i, (name, values)) in self.filters.iter().enumerate() {
            form.pair(&format!("Filter.{}.Name", i + 1), name)
                .list(&format!("Filter.{}.Value", i + 1), values);
        }
        if let Some(m) = self.max_results {
            form.pair("MaxResults", &m.to_string());
        }
        if let Some(t) = &self.next_token {
            form.pair("NextToken", t);
        }
        form
    }

    /// The form body (reference §1.3: lists flattened with `.N`, 1-based).
    pub fn form(&self) -> String {
        self.query().finish()
    }
}

/// One page of DescribeImages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImagesPage {
    pub images: Vec<AmiFacts>,
    pub next_token: Option<String>,
}

/// A subnet as DescribeSubnets reports it: where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    pub subnet_id: String,
    pub vpc_id: String,
    /// `us-east-1a`: a name that differs from account to account.
    pub availability_zone: String,
    /// `use1-az2`: the same zone in every account, which is what WorkSpaces' list of
    /// supported zones names.
    pub availability_zone_id: String,
}

/// One page of DescribeSubnets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubnetsPage {
    pub subnets: Vec<Subnet>,
    pub next_token: Option<String>,
}

/// An EC2 client for one tenant and Region.
#[derive(Clone, Debug)]
pub struct Ec2Client {
    signed: SignedClient,
}

impl SignedGateway for Ec2Client {
    const SERVICE: Service = SERVICE;

    fn from_signed(signed: SignedClient) -> Self {
        Self { signed }
    }
}

impl Ec2Client {
    pub fn endpoint(&self) -> &str {
        self.signed.endpoint()
    }

    /// The customer's own machine images (DescribeImages, owner `self`, `image-type`
    /// machine), at most `max`; `true` if more exist.
    pub async fn owned_amis(&self, max: usize) -> Result<(Vec<AmiFacts>, bool), AwsError> {
        let mut out = Vec::new();
        let mut request = DescribeImages {
            owners: vec!["self".into()],
            filters: vec![("image-type".into(), vec!["machine".into()])],
            ..DescribeImages::default()
        };
        loop {
            let page = self.describe_images(&request).await?;
            out.extend(page.images);
            request.next_token = page.next_token;
            if out.len() > max || (out.len() == max && request.next_token.is_some()) {
                out.truncate(max);
                return Ok((out, true));
            }
            if request.next_token.is_none() {
                return Ok((out, false));
            }
        }
    }

    /// One page of DescribeImages, retried while throttled or transiently failing.
    pub async fn describe_images(&self, req: &DescribeImages) -> Result<ImagesPage, AwsError> {
        let text = self.signed.query(req.query()).await?;
        parse_images(&text).map_err(|e| self.signed.unreadable("DescribeImages", e.to_string(), e))
    }

    /// The subnets `ids` (DescribeSubnets, every page). A subnet that does not exist fails
    /// the call (`InvalidSubnetID.NotFound`, [`crate::aws::AwsErrorKind::NotFound`]).
    pub async fn subnets(&self, ids: &[String]) -> Result<Vec<Subnet>, AwsError> {
        let mut out = Vec::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let mut token: Option<String> = None;
        loop {
            let mut form = QueryForm::new("DescribeSubnets", API_VERSION);
            form.list("SubnetId", ids);
            if let Some(t) = &token {
                form.pair("NextToken", t);
            }
            let text = self.signed.query(form).await?;
            let page = parse_subnets(&text)
                .map_err(|e| self.signed.unreadable("DescribeSubnets", e.to_string(), e))?;
            out.extend(page.subnets);
            token = page.next_token;
            if token.is_none() {
                return Ok(out);
            }
        }
    }
}

type Parsed<T> = Result<T, XmlDecodeError>;

/// Parses a DescribeImagesResponse into the facts onboarding judges.
pub fn parse_images(text: &str) -> Parsed<ImagesPage> {
    let mut doc = Document::new(text);
    let mut root = doc.root_element()?;
    if !root.start_el().matches("DescribeImagesResponse") {
        return Err(XmlDecodeError::custom(format!(
            "root element is <{}>, not <DescribeImagesResponse>",
            root.start_el().local()
        )));
    }
    let mut page = ImagesPage::default();
    while let Some(mut tag) = root.next_tag() {
        if tag.start_el().matches("imagesSet") {
            while let Some(mut item) = tag.next_tag() {
                if item.start_el().matches("item") {
                    page.images.push(parse_image(&mut item)?);
                }
            }
        } else if tag.start_el().matches("nextToken") {
            let t = try_data(&mut tag)?;
            if !t.is_empty() {
                page.next_token = Some(t.into_owned());
            }
        }
    }
    Ok(page)
}

/// Parses a DescribeSubnetsResponse.
pub fn parse_subnets(text: &str) -> Parsed<SubnetsPage> {
    let mut doc = Document::new(text);
    let mut root = doc.root_element()?;
    if !root.start_el().matches("DescribeSubnetsResponse") {
        return Err(XmlDecodeError::custom(format!(
            "root element is <{}>, not <DescribeSubnetsResponse>",
            root.start_el().local()
        )));
    }
    let mut page = SubnetsPage::default();
    while let Some(mut tag) = root.next_tag() {
        if tag.start_el().matches("subnetSet") {
            while let Some(mut item) = tag.next_tag() {
                if item.start_el().matches("item") {
                    page.subnets.push(parse_subnet(&mut item)?);
                }
            }
        } else if tag.start_el().matches("nextToken") {
            let t = try_data(&mut tag)?;
            if !t.is_empty() {
                page.next_token = Some(t.into_owned());
            }
        }
    }
    Ok(page)
}

fn parse_subnet(item: &mut ScopedDecoder<'_, '_>) -> Parsed<Subnet> {
    let mut s = Subnet {
        subnet_id: String::new(),
        vpc_id: String::new(),
        availability_zone: String::new(),
        availability_zone_id: String::new(),
    };
    while let Some(mut tag) = item.next_tag() {
        let slot = match tag.start_el().local() {
            "subnetId" => &mut s.subnet_id,
            "vpcId" => &mut s.vpc_id,
            "availabilityZone" => &mut s.availability_zone,
            "availabilityZoneId" => &mut s.availability_zone_id,
            _ => continue,
        };
        *slot = try_data(&mut tag)?.into_owned();
    }
    Ok(s)
}

/// One block device mapping: its device, and the EBS facts Steward reads.
#[derive(Default)]
struct Mapping {
    device: String,
    volume_type: String,
    volume_gib: Option<u32>,
    encrypted: bool,
}

fn parse_image(item: &mut ScopedDecoder<'_, '_>) -> Parsed<AmiFacts> {
    let mut f = AmiFacts {
        image_id: String::new(),
        name: String::new(),
        description: String::new(),
        owner_id: String::new(),
        state: String::new(),
        image_type: String::new(),
        virtualization_type: String::new(),
        hypervisor: String::new(),
        platform: String::new(),
        platform_details: String::new(),
        ena_support: false,
        architecture: String::new(),
        root_volume_type: String::new(),
        root_volume_gib: 0,
        encrypted: false,
        creation_date: String::new(),
    };
    let mut root_device = String::new();
    let mut mappings: Vec<Mapping> = Vec::new();
    while let Some(mut tag) = item.next_tag() {
        let name = tag.start_el().local().to_owned();
        let text = |tag: &mut ScopedDecoder<'_, '_>| -> Parsed<String> {
            try_data(tag).map(Cow::into_owned)
        };
        match name.as_str() {
            "imageId" => f.image_id = text(&mut tag)?,
            "name" => f.name = text(&mut tag)?,
            "description" => f.description = text(&mut tag)?,
            "imageOwnerId" => f.owner_id = text(&mut tag)?,
            "imageState" => f.state = text(&mut tag)?,
            "imageType" => f.image_type = text(&mut tag)?,
            "virtualizationType" => f.virtualization_type = text(&mut tag)?,
            "hypervisor" => f.hypervisor = text(&mut tag)?,
            // The service sends `windows` where the model's enum says `Windows` (§10).
            "platform" => f.platform = text(&mut tag)?.to_ascii_lowercase(),
            "platformDetails" => f.platform_details = text(&mut tag)?,
            "enaSupport" => f.ena_support = text(&mut tag)?.trim() == "true",
            "architecture" => f.architecture = text(&mut tag)?,
            "creationDate" => f.creation_date = text(&mut tag)?,
            "rootDeviceName" => root_device = text(&mut tag)?,
            "blockDeviceMapping" => {
                while let Some(mut entry) = tag.next_tag() {
                    if entry.start_el().matches("item") {
                        mappings.push(parse_mapping(&mut entry)?);
                    }
                }
            }
            _ => {}
        }
    }
    let root = mappings
        .iter()
        .find(|m| m.device == root_device)
        .or_else(|| mappings.first());
    if let Some(m) = root {
        f.root_volume_type.clone_from(&m.volume_type);
        f.root_volume_gib = m.volume_gib.unwrap_or(0);
    }
    f.encrypted = mappings.iter().any(|m| m.encrypted);
    Ok(f)
}

fn parse_mapping(entry: &mut ScopedDecoder<'_, '_>) -> Parsed<Mapping> {
    let mut m = Mapping::default();
    while let Some(mut tag) = entry.next_tag() {
        if tag.start_el().matches("deviceName") {
            m.device = try_data(&mut tag)?.into_owned();
        } else if tag.start_el().matches("ebs") {
            while let Some(mut ebs) = tag.next_tag() {
                let local = ebs.start_el().local().to_owned();
                let v = try_data(&mut ebs)?;
                match local.as_str() {
                    "volumeType" => m.volume_type = v.into_owned(),
                    "volumeSize" => m.volume_gib = v.trim().parse().ok(),
                    "encrypted" => m.encrypted = v.trim() == "true",
                    _ => {}
                }
            }
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
  <imagesSet>
    <item>
      <imageId>ami-0123456789abcdef0</imageId>
      <imageLocation>123456789012/win11</imageLocation>
      <imageState>available</imageState>
      <imageOwnerId>123456789012</imageOwnerId>
      <creationDate>2026-01-02T03:04:05.000Z</creationDate>
      <isPublic>false</isPublic>
      <architecture>x86_64</architecture>
      <platformDetails>Windows BYOL</platformDetails>
      <imageType>machine</imageType>
      <name>win11 &amp; apps</name>
      <description>golden</description>
      <platform>windows</platform>
      <rootDeviceType>ebs</rootDeviceType>
      <rootDeviceName>/dev/sda1</rootDeviceName>
      <blockDeviceMapping>
        <item>
          <deviceName>/dev/xvdb</deviceName>
          <ebs><volumeSize>500</volumeSize><volumeType>gp3</volumeType><encrypted>false</encrypted></ebs>
        </item>
        <item>
          <deviceName>/dev/sda1</deviceName>
          <ebs><snapshotId>snap-1</snapshotId><volumeSize>80</volumeSize><deleteOnTermination>true</deleteOnTermination><volumeType>gp2</volumeType><encrypted>false</encrypted></ebs>
        </item>
      </blockDeviceMapping>
      <virtualizationType>hvm</virtualizationType>
      <tagSet><item><key>name</key><value>x</value></item></tagSet>
      <hypervisor>xen</hypervisor>
      <enaSupport>true</enaSupport>
    </item>
    <item>
      <imageId>ami-0123abcd</imageId>
      <imageState>available</imageState>
      <platform>Windows</platform>
      <blockDeviceMapping><item><deviceName>/dev/sda1</deviceName><ebs><volumeSize>60</volumeSize><encrypted>true</encrypted></ebs></item></blockDeviceMapping>
    </item>
  </imagesSet>
  <nextToken>page-2</nextToken>
</DescribeImagesResponse>"#;

    #[test]
    fn a_page_parses_into_the_facts_onboarding_judges() {
        let page = parse_images(PAGE).unwrap();
        assert_eq!(page.next_token.as_deref(), Some("page-2"));
        assert_eq!(page.images.len(), 2);
        let a = &page.images[0];
        assert_eq!(a.image_id, "ami-0123456789abcdef0");
        assert_eq!(a.name, "win11 & apps");
        assert_eq!(a.owner_id, "123456789012");
        assert_eq!(a.state, "available");
        assert_eq!(a.platform, "windows");
        assert_eq!(a.platform_details, "Windows BYOL");
        assert_eq!(a.architecture, "x86_64");
        assert_eq!(a.virtualization_type, "hvm");
        assert_eq!(a.hypervisor, "xen");
        assert!(a.ena_support);
        // The root volume is the mapping named by rootDeviceName, not the first one.
        assert_eq!(
            (a.root_volume_type.as_str(), a.root_volume_gib),
            ("gp2", 80)
        );
        assert!(!a.encrypted);
        let b = &page.images[1];
        assert_eq!(b.platform, "windows");
        assert_eq!(b.root_volume_gib, 60);
        assert!(b.encrypted);
    }

    #[test]
    fn the_last_page_has_no_token_and_an_empty_set_is_no_images() {
        let xml = r#"<DescribeImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><imagesSet/></DescribeImagesResponse>"#;
        assert_eq!(parse_images(xml).unwrap(), ImagesPage::default());
    }

    #[test]
    fn a_foreign_document_is_refused() {
        assert!(parse_images("<Response><Errors/></Response>").is_err());
        assert!(parse_images("not xml").is_err());
    }

    #[test]
    fn subnets_parse_with_their_zone_names_and_ids() {
        let xml = r#"<DescribeSubnetsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r</requestId>
  <subnetSet>
    <item>
      <subnetId>subnet-0a1b2c3d</subnetId><subnetArn>arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0a1b2c3d</subnetArn>
      <state>available</state><vpcId>vpc-11112222</vpcId><cidrBlock>10.0.1.0/24</cidrBlock>
      <ipv6CidrBlockAssociationSet/><availableIpAddressCount>251</availableIpAddressCount>
      <availabilityZone>us-east-1a</availabilityZone><availabilityZoneId>use1-az6</availabilityZoneId>
      <tagSet><item><key>Name</key><value>a</value></item></tagSet>
    </item>
    <item>
      <subnetId>subnet-9f8e7d6c</subnetId><vpcId>vpc-11112222</vpcId>
      <availabilityZone>us-east-1b</availabilityZone><availabilityZoneId>use1-az1</availabilityZoneId>
    </item>
  </subnetSet>
  <nextToken>n2</nextToken>
</DescribeSubnetsResponse>"#;
        let page = parse_subnets(xml).unwrap();
        assert_eq!(
            page,
            SubnetsPage {
                subnets: vec![
                    Subnet {
                        subnet_id: "subnet-0a1b2c3d".into(),
                        vpc_id: "vpc-11112222".into(),
                        availability_zone: "us-east-1a".into(),
                        availability_zone_id: "use1-az6".into(),
                    },
                    Subnet {
                        subnet_id: "subnet-9f8e7d6c".into(),
                        vpc_id: "vpc-11112222".into(),
                        availability_zone: "us-east-1b".into(),
                        availability_zone_id: "use1-az1".into(),
                    },
                ],
                next_token: Some("n2".into()),
            }
        );
        assert!(parse_subnets(PAGE).is_err());
    }

    #[test]
    fn the_form_flattens_lists_from_one() {
        let req = DescribeImages {
            owners: vec!["self".into()],
            image_ids: vec![],
            filters: vec![("image-type".into(), vec!["machine".into()])],
            max_results: None,
            next_token: Some("a b".into()),
        };
        assert_eq!(
            req.form(),
            "Action=DescribeImages&Version=2016-11-15&Owner.1=self&Filter.1.Name=image-type&Filter.1.Value.1=machine&NextToken=a+b"
        );
    }

    #[test]
    fn endpoints_follow_the_partition() {
        assert_eq!(
            SERVICE.default_endpoint("eu-west-1"),
            "https://ec2.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            SERVICE.default_endpoint("cn-north-1"),
            "https://ec2.cn-north-1.amazonaws.com.cn"
        );
    }
}
